# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: Presigned URLs (used by a plain HTTP client in another process: no SDK, no credentials)."""

import base64
import hashlib
import json
import sys
import urllib.parse

import botocore
import botocore.exceptions

from difftest_common import (BUCKET, DENIED, P, body, case, default_signing_client, fetch, norm, signed_headers, signing_client,
                             url_shape)


@case
def presigned_get_works_without_sdk(s3):
    data = body(5000, 21)
    s3.put_object(Bucket=BUCKET, Key=P + 'pre/get', Body=data)
    url = signing_client().generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/get'},
                                                   ExpiresIn=300)
    return {'shape': url_shape(url), 'fetched': fetch('GET', url),
            'expected': hashlib.sha256(data).hexdigest()[:16]}


@case
def presigned_get_with_override(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'pre/over', Body=b'x')
    url = signing_client().generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/over', 'ResponseContentDisposition': 'attachment'})
    return {'shape': url_shape(url), 'fetched': fetch('GET', url)}


# A presigned PUT stating the new object's headers: boto3 signs them into the URL, so the uploader sends them as given.
_SIGNED_PUT = {'ContentType': 'image/png', 'Metadata': {'origin': 'browser'}, 'CacheControl': 'max-age=60',
               'ContentDisposition': 'attachment; filename="a.png"', 'Tagging': 'kind=upload'}
_SIGNED_PUT_HEADERS = {'Content-Type': 'image/png', 'x-amz-meta-origin': 'browser', 'Cache-Control': 'max-age=60',
                       'Content-Disposition': 'attachment; filename="a.png"', 'x-amz-tagging': 'kind=upload'}


@case
def presigned_put_with_signed_headers(s3):
    url = signing_client().generate_presigned_url(
        'put_object', Params=dict(_SIGNED_PUT, Bucket=BUCKET, Key=P + 'pre/signed-headers'), ExpiresIn=60)
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    fetched = fetch('PUT', url, b'png bytes', _SIGNED_PUT_HEADERS)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'pre/signed-headers')
    return {'signed': query.get('X-Amz-SignedHeaders'), 'fetched': fetched,
            'stored': {name: head.get(name) for name in ('ContentType', 'Metadata', 'CacheControl', 'ContentDisposition')},
            'tags': s3.get_object_tagging(Bucket=BUCKET, Key=P + 'pre/signed-headers')['TagSet']}


@case
def presigned_put_with_another_content_type_is_refused(s3):
    url = signing_client().generate_presigned_url(
        'put_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/other-type', 'ContentType': 'image/png'}, ExpiresIn=60)
    fetched = fetch('PUT', url, b'not a png', {'Content-Type': 'text/html'})
    try:
        s3.head_object(Bucket=BUCKET, Key=P + 'pre/other-type')
        stored = True
    except botocore.exceptions.ClientError:
        stored = False
    return {'fetched': fetched, 'stored': stored}


@case
def presigned_get_of_a_range(s3):
    # The range is signed into the URL: the downloader sends it as given; without it the signature does not match.
    data = body(5000, 22)
    s3.put_object(Bucket=BUCKET, Key=P + 'pre/range', Body=data)
    url = signing_client().generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/range', 'Range': 'bytes=10-19'}, ExpiresIn=60)
    return {'signed': signed_headers(url), 'with': fetch('GET', url, headers={'Range': 'bytes=10-19'}),
            'expected': hashlib.sha256(data[10:20]).hexdigest()[:16], 'without': fetch('GET', url),
            'another': fetch('GET', url, headers={'Range': 'bytes=0-4999'})}


@case
def presigned_get_with_conditions(s3):
    import datetime
    etag = s3.put_object(Bucket=BUCKET, Key=P + 'pre/conditional', Body=b'conditional')['ETag']
    client = signing_client()
    unchanged = client.generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/conditional', 'IfNoneMatch': etag}, ExpiresIn=60)
    since = client.generate_presigned_url(
        'head_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/conditional',
                               'IfModifiedSince': datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)},
        ExpiresIn=60)
    return {'signed': [signed_headers(unchanged), signed_headers(since)],
            'not_modified': fetch('GET', unchanged, headers={'If-None-Match': etag}),
            'modified_since': fetch('HEAD', since, headers={'If-Modified-Since': 'Sat, 01 Jan 2000 00:00:00 GMT'})}


@case
def presigned_put_with_content_md5_and_checksum(s3):
    # An integrity-checked browser upload: the URL binds the digest, and the store refuses bytes that do not match it.
    data = b'bytes whose digests the URL states'
    md5 = base64.b64encode(hashlib.md5(data).digest()).decode()
    sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
    client = signing_client()
    by_md5 = client.generate_presigned_url(
        'put_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/md5', 'ContentMD5': md5}, ExpiresIn=60)
    by_sha = client.generate_presigned_url(
        'put_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/sha', 'ChecksumSHA256': sha}, ExpiresIn=60)
    out = {'signed': [signed_headers(by_md5), signed_headers(by_sha)],
           'md5_other_bytes': fetch('PUT', by_md5, b'other bytes', {'Content-MD5': md5}),
           'md5_missing': fetch('PUT', by_md5, data),
           'md5': fetch('PUT', by_md5, data, {'Content-MD5': md5}),
           'sha_other_bytes': fetch('PUT', by_sha, b'other bytes', {'x-amz-checksum-sha256': sha}),
           'sha': fetch('PUT', by_sha, data, {'x-amz-checksum-sha256': sha})}
    out['stored'] = [s3.get_object(Bucket=BUCKET, Key=P + 'pre/md5')['Body'].read() == data,
                     s3.head_object(Bucket=BUCKET, Key=P + 'pre/sha', ChecksumMode='ENABLED').get('ChecksumSHA256') == sha]
    return out


@case
def presigned_put_then_get(s3):
    url = signing_client().generate_presigned_url('put_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/put'},
                                                   ExpiresIn=60)
    fetched = fetch('PUT', url, b'uploaded by a presigned PUT')
    return {'shape': url_shape(url), 'fetched': fetched,
            'stored': s3.get_object(Bucket=BUCKET, Key=P + 'pre/put')['Body'].read().decode()}


@case
def presigned_get_expired(s3):
    import time
    s3.put_object(Bucket=BUCKET, Key=P + 'pre/expiring', Body=b'soon gone')
    url = signing_client().generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/expiring'},
                                                   ExpiresIn=1)
    time.sleep(2.1)
    return fetch('GET', url)


@case
def presigned_get_missing_key(s3):
    url = signing_client().generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/none'})
    return fetch('GET', url)


@case
def presigned_unknown_method(s3):
    return signing_client().generate_presigned_url('get_thing', Params={})


@case
def presigned_missing_key_param(s3):
    return signing_client().generate_presigned_url('get_object', Params={'Bucket': BUCKET})


# A browser-form upload as a web page sends it: multipart/form-data, the fields first, then the file; urllib only,
# in a separate process with no SDK and no credentials.
_POST_FORM = """
import json, sys, urllib.request, urllib.error
url, fields, filename = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
data = sys.stdin.buffer.read()
boundary = 'nexusformboundary7d3f'
parts = []
for name, value in fields.items():
    parts.append(f'--{boundary}\\r\\nContent-Disposition: form-data; name="{name}"\\r\\n\\r\\n{value}\\r\\n'.encode())
parts.append(f'--{boundary}\\r\\nContent-Disposition: form-data; name="file"; filename="{filename}"\\r\\n'
             f'Content-Type: application/octet-stream\\r\\n\\r\\n'.encode() + data + b'\\r\\n')
parts.append(f'--{boundary}--\\r\\n'.encode())
request = urllib.request.Request(url, data=b''.join(parts), method='POST',
                                 headers={'Content-Type': f'multipart/form-data; boundary={boundary}'})
class Stay(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args):
        return None   # a redirect is reported, never followed (it names a page outside the node)
location = None
try:
    with urllib.request.build_opener(Stay).open(request) as r:
        status, payload = r.status, r.read()
except urllib.error.HTTPError as e:
    status, payload, location = e.code, e.read(), e.headers.get('Location')
code = payload.split(b'<Code>')[1].split(b'</Code>')[0].decode() if b'<Code>' in payload else None
print(json.dumps({'status': status, 'code': code, 'location': location}))
"""


def _post_form(post, data, filename='upload.bin'):
    import subprocess
    done = subprocess.run([sys.executable, '-c', _POST_FORM, post['url'], json.dumps(post['fields']), filename],
                          input=data, capture_output=True, check=True)
    return json.loads(done.stdout)


def _post_shape(post):
    return {'url': url_shape(post['url']), 'fields': sorted(post['fields'])}


@case
def presigned_post_upload_then_get(s3):
    post = signing_client().generate_presigned_post(
        BUCKET, P + 'post/form.txt', Fields={'Content-Type': 'text/plain', 'x-amz-meta-origin': 'form'},
        Conditions=[{'Content-Type': 'text/plain'}, ['starts-with', '$x-amz-meta-origin', ''],
                    ['content-length-range', 1, 1000]], ExpiresIn=300)
    sent = _post_form(post, b'uploaded by a browser form')
    got = s3.get_object(Bucket=BUCKET, Key=P + 'post/form.txt')
    return {'shape': _post_shape(post), 'sent': sent, 'stored': got['Body'].read().decode(),
            'type': got['ContentType'], 'metadata': got['Metadata']}


@case
def presigned_post_with_filename(s3):
    post = signing_client().generate_presigned_post(BUCKET, P + 'post/by-name/${filename}')
    sent = _post_form(post, body(3000, 9), filename='chosen.bin')
    return {'shape': _post_shape(post), 'sent': sent,
            'stored': norm(s3.get_object(Bucket=BUCKET, Key=P + 'post/by-name/chosen.bin')['Body'].read())}


@case
def presigned_post_201_status(s3):
    post = signing_client().generate_presigned_post(
        BUCKET, P + 'post/created', Fields={'success_action_status': '201'},
        Conditions=[{'success_action_status': '201'}])
    return _post_form(post, b'x')


@case
def presigned_post_redirect_and_tagging(s3):
    tagging = '<Tagging><TagSet><Tag><Key>origin</Key><Value>form</Value></Tag></TagSet></Tagging>'
    target = 'https://example.invalid/uploaded?from=form'
    post = signing_client().generate_presigned_post(
        BUCKET, P + 'post/redirected', Fields={'success_action_redirect': target, 'tagging': tagging},
        Conditions=[{'success_action_redirect': target}, {'tagging': tagging}])
    sent = _post_form(post, b'tagged and redirected')
    head = s3.head_object(Bucket=BUCKET, Key=P + 'post/redirected')
    base, _, query = sent.pop('location').partition('?')
    params = dict(urllib.parse.parse_qsl(query))
    return {'sent': sent, 'to': base, 'from': params.get('from'), 'bucket': params.get('bucket') == BUCKET,
            'key': params.get('key') == P + 'post/redirected', 'etag': params.get('etag') == head['ETag'],
            'tags': s3.get_object_tagging(Bucket=BUCKET, Key=P + 'post/redirected')['TagSet']}


@case
def presigned_post_bad_tagging_stores_nothing(s3):
    tagging = '<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>'
    post = signing_client().generate_presigned_post(BUCKET, P + 'post/badtags', Fields={'tagging': tagging},
                                                     Conditions=[{'tagging': tagging}])
    sent = _post_form(post, b'x')
    return {'sent': sent, 'stored': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'post/badtags').get('KeyCount')}


@case
def presigned_post_acl(s3):
    # ACLs are disabled (S3's default): a form stating the owner's full control uploads, a public one stores nothing.
    owner = signing_client().generate_presigned_post(BUCKET, P + 'post/acl-owner', Fields={'acl': 'bucket-owner-full-control'},
                                                      Conditions=[{'acl': 'bucket-owner-full-control'}])
    public = signing_client().generate_presigned_post(BUCKET, P + 'post/acl-public', Fields={'acl': 'public-read'},
                                                       Conditions=[{'acl': 'public-read'}])
    return {'owner': _post_form(owner, b'owned'), 'public': _post_form(public, b'public'),
            'stored': [c['Key'] for c in s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'post/acl-').get('Contents', [])]}


@case
def presigned_post_too_large(s3):
    post = signing_client().generate_presigned_post(BUCKET, P + 'post/big', Conditions=[['content-length-range', 1, 10]])
    sent = _post_form(post, b'y' * 100)
    return {'sent': sent, 'stored': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'post/big').get('KeyCount')}


@case
def presigned_post_field_outside_policy(s3):
    post = signing_client().generate_presigned_post(BUCKET, P + 'post/extra', Fields={'x-amz-meta-a': '1'})
    return _post_form(post, b'x')


@case
def presigned_post_wrong_content_type(s3):
    post = signing_client().generate_presigned_post(BUCKET, P + 'post/typed', Fields={'Content-Type': 'image/png'},
                                                     Conditions=[['starts-with', '$Content-Type', 'text/']])
    return _post_form(post, b'x')


@case
def presigned_post_expired(s3):
    import time
    post = signing_client().generate_presigned_post(BUCKET, P + 'post/late', ExpiresIn=1)
    time.sleep(2.1)
    return _post_form(post, b'x')


@case
def presigned_post_key_changed_by_the_client(s3):
    post = signing_client().generate_presigned_post(BUCKET, P + 'post/pinned')
    post['fields']['key'] = P + 'post/elsewhere'
    return {'sent': _post_form(post, b'x'), 'stored': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'post/elsewhere').get('KeyCount')}


@case
def presigned_post_policy_rewritten_by_the_client(s3):
    post = signing_client().generate_presigned_post(BUCKET, P + 'post/pinned2')
    policy = json.loads(base64.b64decode(post['fields']['policy']))
    policy['conditions'] = [c for c in policy['conditions'] if not (isinstance(c, dict) and 'key' in c)]
    post['fields']['policy'] = base64.b64encode(json.dumps(policy).encode()).decode()
    post['fields']['key'] = P + 'post/anything'
    return _post_form(post, b'x')


@case
def presigned_post_denied_cannot_upload(s3):
    # By design the two modes refuse at different moments: baseline hands out a policy the store refuses when used,
    # nexus refuses to sign it. Either way nothing is uploaded.
    try:
        post = signing_client().generate_presigned_post(DENIED, 'planted')
    except botocore.exceptions.ClientError as e:
        return {'uploaded': False, 'code': e.response['Error']['Code']}
    sent = _post_form(post, b'planted')
    return {'uploaded': sent['status'] < 300, 'code': sent['code']}


# A client made without signature_version: baseline's botocore 1.29 presigns SigV2 (headers such as Metadata travel in the
# URL's query), nexus mode SigV4 (they are signed headers the uploader sends, as with s3v4): Metadata is left out here.
@case
def presigned_by_a_default_client_put_get_and_post(s3):
    client = default_signing_client()
    put = client.generate_presigned_url('put_object', ExpiresIn=120,
                                        Params={'Bucket': BUCKET, 'Key': P + 'pre/default-put', 'ContentType': 'text/plain'})
    sent = fetch('PUT', put, b'put through a default client', {'Content-Type': 'text/plain'})
    other_type = fetch('PUT', put, b'x', {'Content-Type': 'text/html'})
    head = s3.head_object(Bucket=BUCKET, Key=P + 'pre/default-put')
    get = client.generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/default-put',
                                                             'ResponseContentDisposition': 'attachment'})
    post = client.generate_presigned_post(BUCKET, P + 'pre/default-post-${filename}', Conditions=[['content-length-range', 1, 64]])
    return {'put': sent, 'other_type': other_type['status'], 'stored': head['ContentType'],
            'got': fetch('GET', get), 'expected': hashlib.sha256(b'put through a default client').hexdigest()[:16],
            'posted': _post_form(post, b'posted'), 'too_large': _post_form(post, b'x' * 65),
            'post_stored': s3.get_object(Bucket=BUCKET, Key=P + 'pre/default-post-upload.bin')['Body'].read().decode()}
