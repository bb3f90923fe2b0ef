# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""s3generic cases of presigned URLs the fast path does not sign (other client methods, other parameters): in nexus mode
the real botocore serializes the request and the backend checks and signs it. Each URL is fetched by a plain HTTP
client in another process. s3generic.py runs them after its own."""

import hashlib
import re

from difftest_common import BUCKET, body, case_list, fetch, signed_headers, signing_client, url_shape

P = 'gen/presigned/'
CASES, case = case_list()


def _fetch_text(method, url, headers=None):
    """As fetch, plus the keys an answer's XML names (a listing's, a tag set's), which the digest alone would hide."""
    import urllib.error
    import urllib.request
    request = urllib.request.Request(url, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as r:
            status, payload = r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        status, payload = e.code, e.read().decode()
    return {'status': status, 'keys': re.findall(r'<Key>([^<]*)</Key>', payload),
            'values': re.findall(r'<Value>([^<]*)</Value>', payload),
            'code': (re.findall(r'<Code>([^<]*)</Code>', payload) or [None])[0]}


@case
def presigned_get_of_the_null_version(s3):
    # The one version every object here has is "null"; another version id is refused when the URL is used.
    data = body(3000, 41)
    s3.put_object(Bucket=BUCKET, Key=P + 'versioned', Body=data)
    client = signing_client()
    null = client.generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'versioned', 'VersionId': 'null'}, ExpiresIn=60)
    other = client.generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'versioned', 'VersionId': 'abc'}, ExpiresIn=60)
    return {'shape': url_shape(null), 'null': fetch('GET', null), 'expected': hashlib.sha256(data).hexdigest()[:16],
            'other': fetch('GET', other)}


@case
def presigned_get_of_a_part(s3):
    data = body(2000, 42)
    s3.put_object(Bucket=BUCKET, Key=P + 'part', Body=data)
    url = signing_client().generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'part', 'PartNumber': 1}, ExpiresIn=60)
    return {'shape': url_shape(url), 'fetched': fetch('GET', url), 'expected': hashlib.sha256(data).hexdigest()[:16]}


@case
def presigned_get_sees_the_latest_put(s3):
    # In nexus mode the put is acknowledged from the write-back spool; the URL is handed out once it has landed.
    s3.put_object(Bucket=BUCKET, Key=P + 'latest', Body=b'first')
    s3.put_object(Bucket=BUCKET, Key=P + 'latest', Body=b'second')
    url = signing_client().generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'latest', 'VersionId': 'null'}, ExpiresIn=60)
    return {'fetched': fetch('GET', url), 'expected': hashlib.sha256(b'second').hexdigest()[:16]}


@case
def presigned_listing(s3):
    for name in ('a', 'b', 'c/d'):
        s3.put_object(Bucket=BUCKET, Key=P + 'list/' + name, Body=b'x')
    url = signing_client().generate_presigned_url(
        'list_objects_v2', Params={'Bucket': BUCKET, 'Prefix': P + 'list/', 'Delimiter': '/'}, ExpiresIn=60)
    return {'shape': url_shape(url), 'fetched': _fetch_text('GET', url)}


@case
def presigned_object_tagging(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'tagged', Body=b'x', Tagging='stage=raw&owner=fn')
    url = signing_client().generate_presigned_url(
        'get_object_tagging', Params={'Bucket': BUCKET, 'Key': P + 'tagged'}, ExpiresIn=60)
    return {'shape': url_shape(url), 'fetched': _fetch_text('GET', url)}


@case
def presigned_put_with_an_acl(s3):
    # The ACL is a signed header: the uploader sends it as given, and without it the signature does not match.
    url = signing_client().generate_presigned_url(
        'put_object', Params={'Bucket': BUCKET, 'Key': P + 'acl', 'ACL': 'bucket-owner-full-control'}, ExpiresIn=60)
    without = fetch('PUT', url, b'no acl header')
    with_acl = fetch('PUT', url, b'with the acl', {'x-amz-acl': 'bucket-owner-full-control'})
    return {'signed': signed_headers(url), 'without': without, 'with': with_acl,
            'stored': s3.get_object(Bucket=BUCKET, Key=P + 'acl')['Body'].read().decode()}


@case
def presigned_copy(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'copy-source', Body=b'copied by a presigned URL')
    url = signing_client().generate_presigned_url(
        'copy_object', Params={'Bucket': BUCKET, 'Key': P + 'copy-target',
                               'CopySource': {'Bucket': BUCKET, 'Key': P + 'copy-source'}}, ExpiresIn=60)
    fetched = fetch('PUT', url, b'', {'x-amz-copy-source': f'{BUCKET}/{P}copy-source'})
    return {'signed': signed_headers(url), 'status': fetched['status'],
            'stored': s3.get_object(Bucket=BUCKET, Key=P + 'copy-target')['Body'].read().decode()}


@case
def presigned_head_with_another_method(s3):
    # HttpMethod changes the method signed: the URL answers that method only.
    s3.put_object(Bucket=BUCKET, Key=P + 'method', Body=b'x')
    url = signing_client().generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'method'}, ExpiresIn=60, HttpMethod='HEAD')
    return {'head': fetch('HEAD', url), 'get': fetch('GET', url)}


@case
def presigned_url_with_bad_parameters(s3):
    # botocore validates the parameters of a presign as of a call, in both modes.
    client = signing_client()
    out = {}
    for name, params in (('missing_key', {'Bucket': BUCKET}), ('bad_part', {'Bucket': BUCKET, 'Key': 'k', 'PartNumber': 'x'})):
        try:
            client.generate_presigned_url('get_object_tagging' if name == 'missing_key' else 'get_object', Params=params)
            out[name] = 'signed'
        except Exception as e:  # noqa: BLE001 - the class and message are what is compared
            out[name] = [type(e).__name__, str(e)]
    return out
