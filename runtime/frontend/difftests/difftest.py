# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the S3 surface: the same calls, run by real boto3 (baseline) and by the stand-in (nexus).

Written like handler code: it imports boto3 and never asks which one it got.
Each case prints a normalized record of its result or error; the harness
(tests/Nexus.Frontend.Tests) runs the script in both modes and compares the
records, which must be equal.

  python3 difftest.py setup            create the buckets (baseline only, admin key)
  python3 difftest.py run [--large-mib N]   run every case, print {"cases": [...], "modules": [...]}

Environment: DIFFTEST_BUCKET, DIFFTEST_DENIED_BUCKET, DIFFTEST_MISSING_BUCKET,
DIFFTEST_WORKDIR (scratch folder, same path in both modes), NEXUS_S3_ENDPOINT
(baseline: the store; ignored by the stand-in), AWS_* credentials (baseline).

Normalization touches only what differs between two runs of the same client:
RequestId/HostId values, HTTPHeaders (transport detail), datetime values
(recorded as type and timezone; ordering is checked by explicit cases), and the
random suffix s3transfer gives its temporary download files.
"""

import base64
import datetime
import hashlib
import io
import json
import os
import re
import sys
import urllib.parse

import boto3
import botocore
import botocore.exceptions
from boto3.s3.transfer import TransferConfig
from botocore.config import Config

BUCKET = os.environ.get('DIFFTEST_BUCKET', 'nexus-difftest')
DENIED = os.environ.get('DIFFTEST_DENIED_BUCKET', 'nexus-difftest-denied')
MISSING = os.environ.get('DIFFTEST_MISSING_BUCKET', 'nexus-difftest-missing')
EMPTY = os.environ.get('DIFFTEST_EMPTY_BUCKET', 'nexus-difftest-empty')
WORKDIR = os.environ.get('DIFFTEST_WORKDIR', '/tmp/nexus-difftest')
P = 'dt/'


def client():
    # Unchanged handler style: an endpoint for the baseline store; the stand-in ignores it.
    return boto3.client('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'),
                        config=Config(retries={'max_attempts': 1}))


def resource():
    return boto3.resource('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'))


_TEMP_SUFFIX = re.compile(r'\.[0-9a-fA-F]{8}\b')


def norm(value):
    """JSON-able, run-independent form of a boto3 result."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == 'ResponseMetadata':
                out[key] = {
                    'HTTPStatusCode': item.get('HTTPStatusCode'),
                    'RetryAttempts': item.get('RetryAttempts'),
                    'RequestId': '<set>' if item.get('RequestId') else item.get('RequestId', '<absent>'),
                    'HostId': '<set>' if item.get('HostId') else item.get('HostId', '<absent>'),
                }
            else:
                out[key] = norm(item)
        return out
    if isinstance(value, (list, tuple)):
        return [norm(item) for item in value]
    if isinstance(value, datetime.datetime):
        offset = value.utcoffset()
        return {'<datetime>': 'aware' if offset is not None else 'naive',
                'utcoffset': None if offset is None else offset.total_seconds()}
    if isinstance(value, (bytes, bytearray)):
        return {'<bytes>': len(value), 'sha256': hashlib.sha256(value).hexdigest()[:16],
                'head': bytes(value[:32]).decode('latin-1')}
    if hasattr(value, 'read') and hasattr(value, 'iter_chunks'):
        return {'<StreamingBody>': norm(value.read())}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return {'<object>': type(value).__name__}


def norm_error(error):
    record = {'exception': f'{type(error).__module__}.{type(error).__qualname__}',
              'message': _TEMP_SUFFIX.sub('.<tmp>', str(error))}
    if isinstance(error, botocore.exceptions.ClientError):
        record['operation_name'] = error.operation_name
        record['response'] = norm(error.response)
        record['is_client_error'] = True
    return record


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def body(n, seed=0):
    return bytes((i * 31 + seed) % 251 for i in range(n))


# ---- PutObject / GetObject ----

@case
def put_bytes(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'bytes', Body=body(1000))


@case
def put_str_with_type_and_metadata(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'text.txt', Body='line one\nline two\r\nline three\n\nlast',
                         ContentType='text/plain', Metadata={'owner': 'difftest', 'Mixed-Case': 'Value'})


@case
def put_fileobj_body(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'fileobj', Body=io.BytesIO(body(5000, 3)))


@case
def put_empty(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'empty', Body=b'')


@case
def put_no_body(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'nobody')


@case
def put_unicode_key(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'ünï cødé/ key+with spaces&?.txt', Body=b'unicode')


@case
def odd_keys_round_trip(s3):
    # Keys S3 takes literally: dot segments, double and leading slashes, percent signs, plus and query chars.
    out = {}
    for key in ('dt/odd/a/../b', 'dt/odd/./c', 'dt/odd//d', 'dt/odd/%41%2F', 'dt/odd/e+f g?h=i#j'):
        try:
            s3.put_object(Bucket=BUCKET, Key=key, Body=key.encode())
            out[key] = s3.get_object(Bucket=BUCKET, Key=key)['Body'].read().decode()
        except botocore.exceptions.ClientError as e:
            out[key] = e.response['Error']['Code']
    out['listed'] = [c['Key'] for c in s3.list_objects_v2(Bucket=BUCKET, Prefix='dt/odd/').get('Contents', [])]
    s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Key': k} for k in out['listed']], 'Quiet': True})
    return out


@case
def copy_str_source_with_spaces(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'src with space+plus', Body=b'spaced')
    s3.copy_object(Bucket=BUCKET, Key=P + 'copied spaced', CopySource=f'{BUCKET}/{P}src with space+plus')
    return s3.get_object(Bucket=BUCKET, Key=P + 'copied spaced')['Body'].read().decode()


@case
def get_full(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')


@case
def get_bytes_body(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes')


@case
def get_empty(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'empty')


@case
def get_unicode_key(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'ünï cødé/ key+with spaces&?.txt')


@case
def get_range_first_bytes(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', Range='bytes=0-9')


@case
def get_range_open_end(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', Range='bytes=990-')


@case
def get_range_suffix(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', Range='bytes=-5')


@case
def get_range_past_end(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', Range='bytes=995-5000')


@case
def get_range_not_satisfiable(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', Range='bytes=5000-6000')


# An object its writer gave a CRC32 (written at setup by real boto3, so that it exists before either run). The
# store keeps that checksum, or computes a CRC-64/NVME for an object written without one (botocore 1.29 has no field
# for it); either is answered only in checksum mode.
CRC32_KEY = 'fixed/crc32'


@case
def get_checksum_mode_writer_crc32(s3):
    return s3.get_object(Bucket=BUCKET, Key=CRC32_KEY, ChecksumMode='ENABLED')


@case
def get_writer_crc32_without_checksum_mode(s3):
    return s3.get_object(Bucket=BUCKET, Key=CRC32_KEY)


@case
def head_checksum_mode_writer_crc32(s3):
    return s3.head_object(Bucket=BUCKET, Key=CRC32_KEY, ChecksumMode='ENABLED')


@case
def get_checksum_mode_store_crc64(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', ChecksumMode='ENABLED')


# A function's own checksums on put_object: computed by the client for a ChecksumAlgorithm (botocore without awscrt
# knows CRC32, SHA1 and SHA256), or given as a value; the store checks the body against it (BadDigest) and keeps it;
# the put's answer and later reads in checksum mode carry it. In nexus mode a read right after the put may be answered
# from the write-back spool.
@case
def put_checksum_algorithm_crc32_then_get_checksum_mode(s3):
    put = s3.put_object(Bucket=BUCKET, Key=P + 'ck/crc32', Body=body(2000, 9), ChecksumAlgorithm='CRC32')
    return {'put': put, 'get': s3.get_object(Bucket=BUCKET, Key=P + 'ck/crc32', ChecksumMode='ENABLED')}


@case
def put_checksum_algorithm_sha256_then_head_checksum_mode(s3):
    put = s3.put_object(Bucket=BUCKET, Key=P + 'ck/sha256', Body=body(3000, 11), ChecksumAlgorithm='SHA256')
    return {'put': put, 'head': s3.head_object(Bucket=BUCKET, Key=P + 'ck/sha256', ChecksumMode='ENABLED'),
            'get_without_mode': s3.get_object(Bucket=BUCKET, Key=P + 'ck/sha256')}


@case
def put_checksum_algorithm_sha1_fileobj(s3):
    source = io.BytesIO(body(4000, 12))
    put = s3.put_object(Bucket=BUCKET, Key=P + 'ck/sha1', Body=source, ChecksumAlgorithm='sha1')
    return {'put': put, 'get': s3.get_object(Bucket=BUCKET, Key=P + 'ck/sha1', ChecksumMode='ENABLED')}


@case
def put_checksum_sha256_value_given(s3):
    data = body(1500, 13)
    value = base64.b64encode(hashlib.sha256(data).digest()).decode()
    put = s3.put_object(Bucket=BUCKET, Key=P + 'ck/given', Body=data, ChecksumSHA256=value)
    return {'put': put, 'get': s3.get_object(Bucket=BUCKET, Key=P + 'ck/given', ChecksumMode='ENABLED')}


@case
def put_checksum_crc32c_value_given(s3):
    # CRC-32C of b'123456789' is 0xE3069283 (its check value).
    put = s3.put_object(Bucket=BUCKET, Key=P + 'ck/crc32c', Body=b'123456789', ChecksumCRC32C='4waSgw==')
    return {'put': put, 'head': s3.head_object(Bucket=BUCKET, Key=P + 'ck/crc32c', ChecksumMode='ENABLED')}


@case
def put_wrong_checksum_sha256_is_bad_digest(s3):
    wrong = base64.b64encode(hashlib.sha256(b'other bytes').digest()).decode()
    return s3.put_object(Bucket=BUCKET, Key=P + 'ck/wrong', Body=body(1200, 14), ChecksumSHA256=wrong)


@case
def put_wrong_checksum_crc32_with_algorithm_is_bad_digest(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'ck/wrong', Body=body(900, 15), ChecksumAlgorithm='CRC32',
                         ChecksumCRC32='AAAAAA==')


@case
def put_wrong_checksum_left_no_object(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'ck/wrong')


@case
def put_wrong_checksum_keeps_the_older_object(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'ck/keep', Body=b'first version', ChecksumAlgorithm='CRC32')
    try:
        s3.put_object(Bucket=BUCKET, Key=P + 'ck/keep', Body=b'second version', ChecksumCRC32='AAAAAA==')
    except botocore.exceptions.ClientError as e:
        return {'put_error_code': e.response['Error']['Code'],
                'get': s3.get_object(Bucket=BUCKET, Key=P + 'ck/keep', ChecksumMode='ENABLED')}
    return 'no error'


@case
def put_checksum_algorithm_crc32c(s3):
    # botocore computes CRC-32C only with awscrt (the function image has none: FlexibleChecksumError there).
    return s3.put_object(Bucket=BUCKET, Key=P + 'ck/crc32c-algorithm', Body=b'x', ChecksumAlgorithm='CRC32C')


@case
def put_checksum_algorithm_unknown(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'ck/md5-algorithm', Body=b'x', ChecksumAlgorithm='MD5')


@case
def upload_fileobj_checksum_algorithm_sha256(s3):
    s3.upload_fileobj(io.BytesIO(body(6000, 16)), BUCKET, P + 'ck/upload', ExtraArgs={'ChecksumAlgorithm': 'SHA256'})
    return s3.head_object(Bucket=BUCKET, Key=P + 'ck/upload', ChecksumMode='ENABLED')


@case
def get_if_match_ok(s3):
    etag = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['ETag']
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', IfMatch=etag)


@case
def get_if_match_fails(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', IfMatch='"00000000000000000000000000000000"')


@case
def get_if_none_match_not_modified(s3):
    etag = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['ETag']
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', IfNoneMatch=etag)


@case
def get_if_none_match_other(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', IfNoneMatch='"00000000000000000000000000000000"')


@case
def get_missing_key(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'does-not-exist')


@case
def get_missing_key_modeled_class(s3):
    try:
        s3.get_object(Bucket=BUCKET, Key=P + 'does-not-exist')
    except s3.exceptions.NoSuchKey as e:
        return {'caught': 'NoSuchKey', 'is_client_error': isinstance(e, botocore.exceptions.ClientError)}
    return {'caught': None}


@case
def get_missing_bucket(s3):
    return s3.get_object(Bucket=MISSING, Key='k')


@case
def get_missing_bucket_modeled_class(s3):
    try:
        s3.list_objects_v2(Bucket=MISSING)
    except s3.exceptions.NoSuchBucket as e:
        return {'caught': 'NoSuchBucket', 'code': e.response['Error']['Code']}
    return {'caught': None}


@case
def get_denied_bucket(s3):
    return s3.get_object(Bucket=DENIED, Key='secret')


@case
def put_denied_bucket(s3):
    return s3.put_object(Bucket=DENIED, Key='k', Body=b'x')


# ---- stored headers, storage class, SSE, Content-MD5, date conditions, response overrides ----

def _md5_b64(data):
    import base64
    return base64.b64encode(hashlib.md5(data).digest()).decode()


@case
def put_stored_headers(s3):
    put = s3.put_object(Bucket=BUCKET, Key=P + 'headers.html', Body=b'<p>hi</p>', ContentType='text/html',
                        CacheControl='max-age=60', ContentDisposition='attachment; filename="a.html"',
                        ContentEncoding='identity', ContentLanguage='en', StorageClass='STANDARD_IA',
                        ServerSideEncryption='AES256', ContentMD5=_md5_b64(b'<p>hi</p>'),
                        ExpectedBucketOwner='123456789012')
    head = s3.head_object(Bucket=BUCKET, Key=P + 'headers.html')
    got = s3.get_object(Bucket=BUCKET, Key=P + 'headers.html')
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'headers.html')['Contents'][0]['StorageClass']
    return {'put': put, 'head': head, 'get': got, 'listed_class': listed}


@case
def put_standard_class_not_reported(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'standard', Body=b's', StorageClass='STANDARD')
    return s3.head_object(Bucket=BUCKET, Key=P + 'standard')


@case
def put_bad_digest(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'digest', Body=b'x', ContentMD5=_md5_b64(b'y'))


@case
def put_bad_digest_leaves_nothing(s3):
    try:
        s3.put_object(Bucket=BUCKET, Key=P + 'digest2', Body=b'x', ContentMD5=_md5_b64(b'y'))
    except botocore.exceptions.ClientError:
        pass
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'digest2')


@case
def put_invalid_storage_class(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'cls', Body=b'x', StorageClass='CHEAPEST')


@case
def put_kms_not_implemented(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'kms', Body=b'x', ServerSideEncryption='aws:kms')


@case
def get_if_modified_since(s3):
    modified = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['LastModified']
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', IfModifiedSince=modified)


@case
def get_if_modified_since_older(s3):
    modified = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['LastModified']
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', IfModifiedSince=modified - datetime.timedelta(hours=1))


@case
def get_if_unmodified_since_fails(s3):
    modified = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['LastModified']
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', IfUnmodifiedSince=modified - datetime.timedelta(days=1))


@case
def get_if_unmodified_since_naive_future(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'bytes', IfUnmodifiedSince=datetime.datetime(2100, 1, 1))


@case
def head_if_modified_since(s3):
    modified = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['LastModified']
    return s3.head_object(Bucket=BUCKET, Key=P + 'bytes', IfModifiedSince=modified)


@case
def get_response_overrides(s3):
    return s3.get_object(Bucket=BUCKET, Key=P + 'text.txt', ResponseContentType='application/json',
                         ResponseCacheControl='no-cache', ResponseContentDisposition='inline',
                         ResponseContentLanguage='de', ResponseContentEncoding='identity')


# ---- buckets ----

@case
def head_bucket_ok(s3):
    return s3.head_bucket(Bucket=BUCKET, ExpectedBucketOwner='123456789012')


@case
def head_bucket_missing(s3):
    return s3.head_bucket(Bucket=MISSING)


@case
def head_bucket_denied(s3):
    return s3.head_bucket(Bucket=DENIED)


@case
def head_bucket_invalid_name(s3):
    return s3.head_bucket(Bucket='bad/name')


@case
def create_bucket_denied(s3):
    # Buckets belong to the node: a function may never create one, in either mode.
    return s3.create_bucket(Bucket=BUCKET + '-new', CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})


@case
def validation_create_bucket_configuration(s3):
    return s3.create_bucket(Bucket=BUCKET + '-new', CreateBucketConfiguration={'Location': 'x'})


@case
def list_buckets_shows_granted(s3):
    return s3.list_buckets()


@case
def bucket_exists_pattern(s3):
    # The common "does the bucket exist" idiom: head_bucket and the error's status code.
    out = {}
    for name in (BUCKET, MISSING, DENIED):
        try:
            s3.head_bucket(Bucket=name)
            out[name] = 'exists'
        except botocore.exceptions.ClientError as e:
            out[name] = int(e.response['Error']['Code'])
    return out


# ---- object tagging ----

@case
def tagging_on_put(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'tagged', Body=b't', Tagging='team=data&stage=raw%20in&empty=')
    return {'tags': s3.get_object_tagging(Bucket=BUCKET, Key=P + 'tagged'),
            'get': s3.get_object(Bucket=BUCKET, Key=P + 'tagged'),
            'head': s3.head_object(Bucket=BUCKET, Key=P + 'tagged')}


@case
def tagging_put_get_delete(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'tagged2', Body=b't')
    before = s3.get_object_tagging(Bucket=BUCKET, Key=P + 'tagged2')
    put = s3.put_object_tagging(Bucket=BUCKET, Key=P + 'tagged2', Tagging={'TagSet': [
        {'Key': 'k' * 128, 'Value': 'v' * 256}, {'Key': 'ünï cødé', 'Value': 'a+b-c=d._:/@'}]})
    after = s3.get_object_tagging(Bucket=BUCKET, Key=P + 'tagged2')
    count = s3.get_object(Bucket=BUCKET, Key=P + 'tagged2')['TagCount']
    deleted = s3.delete_object_tagging(Bucket=BUCKET, Key=P + 'tagged2')
    return {'before': before, 'put': put, 'after': after, 'count': count, 'deleted': deleted,
            'final': s3.get_object_tagging(Bucket=BUCKET, Key=P + 'tagged2')}


@case
def tagging_too_many(s3):
    return s3.put_object_tagging(Bucket=BUCKET, Key=P + 'tagged', Tagging={'TagSet': [
        {'Key': f'k{i}', 'Value': 'v'} for i in range(11)]})


@case
def tagging_too_many_on_put(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'tagged3', Body=b'x', Tagging='&'.join(f'k{i}=v' for i in range(11)))


@case
def tagging_key_too_long(s3):
    return s3.put_object_tagging(Bucket=BUCKET, Key=P + 'tagged', Tagging={'TagSet': [{'Key': 'k' * 129, 'Value': ''}]})


@case
def tagging_value_too_long(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'tagged3', Body=b'x', Tagging='k=' + 'v' * 257)


@case
def tagging_duplicate_key(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'tagged3', Body=b'x', Tagging='a=1&a=2')


@case
def tagging_bad_character(s3):
    return s3.put_object_tagging(Bucket=BUCKET, Key=P + 'tagged', Tagging={'TagSet': [{'Key': 'semi;colon', 'Value': '1'}]})


@case
def tagging_aws_prefix(s3):
    return s3.put_object_tagging(Bucket=BUCKET, Key=P + 'tagged', Tagging={'TagSet': [{'Key': 'aws:owner', 'Value': '1'}]})


@case
def tagging_missing_key(s3):
    return s3.get_object_tagging(Bucket=BUCKET, Key=P + 'no-such-tagged')


@case
def tagging_missing_key_put(s3):
    return s3.put_object_tagging(Bucket=BUCKET, Key=P + 'no-such-tagged', Tagging={'TagSet': []})


@case
def tagging_denied(s3):
    return s3.get_object_tagging(Bucket=DENIED, Key='secret')


@case
def tagging_denied_put(s3):
    return s3.put_object_tagging(Bucket=DENIED, Key='secret', Tagging={'TagSet': [{'Key': 'a', 'Value': 'b'}]})


@case
def validation_tagging_shape(s3):
    return s3.put_object_tagging(Bucket=BUCKET, Key=P + 'tagged', Tagging={'TagSet': [{'Key': 'a'}], 'Extra': 1})


# ---- imports handler code makes at module level ----

@case
def common_imports(s3):
    from botocore.client import Config as ClientConfig
    from boto3.dynamodb.conditions import Attr, Key
    condition = Key('pk').eq('a') & Attr('n').gt(1)
    return {'config_is_botocore_config': ClientConfig is Config,
            'condition': type(condition).__name__,
            'operands': [type(v).__name__ for v in condition.get_expression()['values']],
            'retries': ClientConfig(retries={'max_attempts': 3}).retries}


# ---- StreamingBody ----

@case
def body_read_amounts(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')['Body']
    parts = [b.read(4), b.read(0), b.read(10), b.read(), b.read(3), b.read()]
    return {'parts': [norm(p) for p in parts], 'readable': b.readable()}


@case
def body_iter_chunks(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'bytes')['Body']
    return [len(c) for c in b.iter_chunks(chunk_size=300)]


@case
def body_default_iteration(s3):
    return [len(c) for c in s3.get_object(Bucket=BUCKET, Key=P + 'fileobj')['Body']]


@case
def body_iter_lines(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')['Body']
    return [line.decode() for line in b.iter_lines(chunk_size=5)]


@case
def body_iter_lines_keepends(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')['Body']
    return [line.decode() for line in b.iter_lines(keepends=True)]


@case
def body_context_manager(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')['Body']
    with b as stream:
        data = stream.read()
    return {'data': data.decode()}


@case
def body_close_early(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'bytes')['Body']
    first = b.read(10)
    b.close()
    return norm(first)


# ---- HeadObject ----

@case
def head_existing(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'text.txt')


@case
def head_missing(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'nope')


@case
def head_missing_bucket(s3):
    return s3.head_object(Bucket=MISSING, Key='nope')


@case
def head_denied(s3):
    return s3.head_object(Bucket=DENIED, Key='secret')


@case
def head_if_match_fails(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'bytes', IfMatch='"00000000000000000000000000000000"')


@case
def head_if_none_match(s3):
    etag = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['ETag']
    return s3.head_object(Bucket=BUCKET, Key=P + 'bytes', IfNoneMatch=etag)


@case
def head_range(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'bytes', Range='bytes=0-9')


@case
def last_modified_ordering(s3):
    first = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['LastModified']
    s3.put_object(Bucket=BUCKET, Key=P + 'later', Body=b'later')
    later = s3.head_object(Bucket=BUCKET, Key=P + 'later')['LastModified']
    listed = {c['Key']: c['LastModified'] for c in s3.list_objects_v2(Bucket=BUCKET, Prefix=P)['Contents']}
    now = datetime.datetime.now(datetime.timezone.utc)
    return {'later_not_before_first': later >= first, 'not_in_future': later <= now + datetime.timedelta(seconds=5),
            'recent': now - later < datetime.timedelta(minutes=10),
            'list_matches_head_to_the_second': abs((listed[P + 'later'] - later).total_seconds()) < 1,
            'head_has_no_fraction': later.microsecond == 0}


# ---- Delete ----

@case
def delete_existing(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'to-delete', Body=b'x')
    return s3.delete_object(Bucket=BUCKET, Key=P + 'to-delete')


@case
def delete_missing(s3):
    return s3.delete_object(Bucket=BUCKET, Key=P + 'never-existed')


@case
def delete_missing_bucket(s3):
    return s3.delete_object(Bucket=MISSING, Key='k')


@case
def delete_objects_mixed(s3):
    for k in ('d1', 'd2'):
        s3.put_object(Bucket=BUCKET, Key=P + k, Body=b'x')
    return s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Key': P + 'd1'}, {'Key': P + 'd2'},
                                                                {'Key': P + 'd-missing'}]})


@case
def delete_objects_quiet(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'q1', Body=b'x')
    return s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Key': P + 'q1'}], 'Quiet': True})


@case
def delete_objects_gone(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'd')


# ---- ListObjectsV2 and the paginator ----

def _tree(s3):
    for k in ('tree/a.txt', 'tree/b.txt', 'tree/sub/c.txt', 'tree/sub/d.txt', 'tree/sub2/e.txt', 'tree/z.txt'):
        s3.put_object(Bucket=BUCKET, Key=P + k, Body=k.encode())


@case
def list_prefix(s3):
    _tree(s3)
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/')


@case
def list_delimiter(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/')


@case
def list_max_keys_and_continue(s3):
    first = s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', MaxKeys=2)
    second = s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', MaxKeys=2,
                                ContinuationToken=first['NextContinuationToken'])
    token_types = [type(first.get('NextContinuationToken')).__name__]
    first.pop('NextContinuationToken', None)
    second.pop('NextContinuationToken', None)
    second.pop('ContinuationToken', None)
    return {'first': norm(first), 'second': norm(second), 'token_types': token_types}


@case
def list_delimiter_max_keys(s3):
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/', MaxKeys=3)
    page.pop('NextContinuationToken', None)
    return page


@case
def list_start_after(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', StartAfter=P + 'tree/sub/c.txt')


@case
def list_v2_fetch_owner(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', FetchOwner=True, MaxKeys=2)


@case
def list_empty_result(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'nothing-here/')


@case
def list_missing_bucket(s3):
    return s3.list_objects_v2(Bucket=MISSING)


@case
def list_denied_bucket(s3):
    return s3.list_objects_v2(Bucket=DENIED)


@case
def list_v1_prefix(s3):
    return s3.list_objects(Bucket=BUCKET, Prefix=P + 'tree/')


@case
def list_v1_delimiter_truncated(s3):
    return s3.list_objects(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/', MaxKeys=3)


@case
def list_v1_marker_truncated(s3):
    return s3.list_objects(Bucket=BUCKET, Prefix=P + 'tree/', Marker=P + 'tree/b.txt', MaxKeys=2)


@case
def list_v1_paginator(s3):
    pages = s3.get_paginator('list_objects').paginate(Bucket=BUCKET, Prefix=P + 'tree/', PaginationConfig={'PageSize': 2})
    return [[c['Key'] for c in page.get('Contents', [])] for page in pages]


@case
def list_v1_paginator_delimiter(s3):
    pages = s3.get_paginator('list_objects').paginate(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/',
                                                      PaginationConfig={'PageSize': 2})
    return [page for page in pages]


@case
def paginate_pages(s3):
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=P + 'tree/',
                                                         PaginationConfig={'PageSize': 2})
    return [[c['Key'] for c in page.get('Contents', [])] for page in pages]


@case
def paginate_delimiter(s3):
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/',
                                                         PaginationConfig={'PageSize': 2})
    return [{'keys': [c['Key'] for c in page.get('Contents', [])],
             'prefixes': [c['Prefix'] for c in page.get('CommonPrefixes', [])],
             'KeyCount': page.get('KeyCount'), 'IsTruncated': page.get('IsTruncated')} for page in pages]


@case
def paginate_max_items_and_resume(s3):
    paginator = s3.get_paginator('list_objects_v2')
    first = paginator.paginate(Bucket=BUCKET, Prefix=P + 'tree/', PaginationConfig={'PageSize': 2, 'MaxItems': 3})
    keys = [[c['Key'] for c in page.get('Contents', [])] for page in first]
    rest = paginator.paginate(Bucket=BUCKET, Prefix=P + 'tree/',
                              PaginationConfig={'PageSize': 2, 'StartingToken': first.resume_token})
    return {'first': keys, 'rest': [[c['Key'] for c in page.get('Contents', [])] for page in rest],
            'resume_token_type': type(first.resume_token).__name__}


@case
def paginate_build_full_result(s3):
    result = s3.get_paginator('list_objects_v2').paginate(
        Bucket=BUCKET, Prefix=P + 'tree/', PaginationConfig={'PageSize': 4, 'MaxItems': 5}).build_full_result()
    return {'keys': [c['Key'] for c in result.get('Contents', [])], 'fields': sorted(result),
            'next_token_type': type(result.get('NextToken')).__name__}


@case
def paginate_search(s3):
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=P + 'tree/')
    return list(pages.search('Contents[].Key'))


@case
def paginate_missing_bucket(s3):
    return list(s3.get_paginator('list_objects_v2').paginate(Bucket=MISSING))


# ---- CopyObject ----

@case
def copy_dict_source(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'copy1', CopySource={'Bucket': BUCKET, 'Key': P + 'text.txt'})


@case
def copy_keeps_metadata(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'copy1')


@case
def copy_str_source(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'copy2', CopySource=f'{BUCKET}/{P}bytes')


@case
def copy_replace_metadata(s3):
    s3.copy_object(Bucket=BUCKET, Key=P + 'copy3', CopySource={'Bucket': BUCKET, 'Key': P + 'text.txt'},
                   MetadataDirective='REPLACE', ContentType='application/x-replaced', Metadata={'new': 'meta'})
    return s3.head_object(Bucket=BUCKET, Key=P + 'copy3')


@case
def copy_missing_source(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'copy4', CopySource={'Bucket': BUCKET, 'Key': P + 'nope'})


@case
def copy_to_denied(s3):
    return s3.copy_object(Bucket=DENIED, Key='copy', CopySource={'Bucket': BUCKET, 'Key': P + 'bytes'})


@case
def copy_from_denied(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'stolen', CopySource={'Bucket': DENIED, 'Key': 'secret'})


# ---- Transfers ----

def _workfile(name, data=None):
    path = os.path.join(WORKDIR, name)
    if data is not None:
        with open(path, 'wb') as f:
            f.write(data)
    return path


def _digest(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return {'size': os.path.getsize(path), 'sha256': h.hexdigest()[:16]}


@case
def upload_file_small(s3):
    seen = []
    result = s3.upload_file(_workfile('up-small', body(70000, 5)), BUCKET, P + 'up-small',
                            ExtraArgs={'ContentType': 'application/x-up', 'Metadata': {'via': 'upload_file'}},
                            Callback=seen.append)
    return {'result': result, 'callback_total': sum(seen), 'head': norm(s3.head_object(Bucket=BUCKET,
                                                                                        Key=P + 'up-small'))}


@case
def upload_file_extra_args_tags_and_headers(s3):
    s3.upload_file(_workfile('up-extra', body(3000, 9)), BUCKET, P + 'up-extra',
                   ExtraArgs={'Tagging': 'source=upload_file', 'CacheControl': 'max-age=1',
                              'StorageClass': 'INTELLIGENT_TIERING', 'ServerSideEncryption': 'AES256'})
    return {'head': s3.head_object(Bucket=BUCKET, Key=P + 'up-extra'),
            'tags': s3.get_object_tagging(Bucket=BUCKET, Key=P + 'up-extra')}


@case
def download_file_small(s3):
    seen = []
    path = _workfile('down-small')
    result = s3.download_file(BUCKET, P + 'up-small', path, Callback=seen.append)
    return {'result': result, 'callback_total': sum(seen), 'file': _digest(path),
            'leftovers': sorted(n for n in os.listdir(WORKDIR) if n.startswith('down-small.'))}


@case
def download_file_missing(s3):
    return s3.download_file(BUCKET, P + 'nope', _workfile('down-missing'))


@case
def download_file_missing_leaves_nothing(s3):
    try:
        s3.download_file(BUCKET, P + 'nope', _workfile('down-missing2'))
    except botocore.exceptions.ClientError:
        pass
    return sorted(n for n in os.listdir(WORKDIR) if n.startswith('down-missing2'))


@case
def download_file_denied(s3):
    return s3.download_file(DENIED, 'secret', _workfile('down-denied'))


@case
def download_file_into_missing_dir(s3):
    return s3.download_file(BUCKET, P + 'up-small', os.path.join(WORKDIR, 'no-such-dir', 'f'))


@case
def upload_file_missing_bucket(s3):
    return s3.upload_file(_workfile('up-x', b'abc'), MISSING, 'k')


@case
def upload_file_denied(s3):
    return s3.upload_file(_workfile('up-x', b'abc'), DENIED, 'k')


@case
def upload_file_missing_local(s3):
    return s3.upload_file(os.path.join(WORKDIR, 'no-such-file'), BUCKET, P + 'never')


@case
def upload_file_bad_extra_args(s3):
    return s3.upload_file(_workfile('up-x', b'abc'), BUCKET, P + 'never', ExtraArgs={'Nope': 1})


@case
def download_file_bad_extra_args(s3):
    return s3.download_file(BUCKET, P + 'up-small', _workfile('down-x'), ExtraArgs={'Range': 'bytes=0-1'})


@case
def upload_file_non_str_filename(s3):
    return s3.upload_file(b'/tmp/x', BUCKET, P + 'never')


@case
def upload_fileobj_and_download_fileobj(s3):
    seen_up, seen_down = [], []
    s3.upload_fileobj(io.BytesIO(body(100000, 9)), BUCKET, P + 'fileobj2', ExtraArgs={'ContentType': 'a/b'},
                      Callback=seen_up.append)
    out = io.BytesIO()
    s3.download_fileobj(BUCKET, P + 'fileobj2', out, Callback=seen_down.append)
    return {'up': sum(seen_up), 'down': sum(seen_down), 'data': norm(out.getvalue()),
            'head': norm(s3.head_object(Bucket=BUCKET, Key=P + 'fileobj2'))}


@case
def upload_fileobj_not_readable(s3):
    return s3.upload_fileobj(b'not a file', BUCKET, P + 'never')


@case
def download_fileobj_missing(s3):
    return s3.download_fileobj(BUCKET, P + 'nope', io.BytesIO())


@case
def managed_copy(s3):
    seen = []
    result = s3.copy({'Bucket': BUCKET, 'Key': P + 'up-small'}, BUCKET, P + 'managed-copy', Callback=seen.append)
    return {'result': result, 'callback_total': sum(seen),
            'head': norm(s3.head_object(Bucket=BUCKET, Key=P + 'managed-copy'))}


@case
def managed_copy_missing_source(s3):
    return s3.copy({'Bucket': BUCKET, 'Key': P + 'nope'}, BUCKET, P + 'managed-copy2')


@case
def transfer_config_small_threshold(s3):
    # A TransferConfig is accepted; the stored object is the same.
    path = _workfile('up-cfg', body(300000, 11))
    s3.upload_file(path, BUCKET, P + 'up-cfg', Config=TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                                                     max_concurrency=2))
    out = _workfile('down-cfg')
    s3.download_file(BUCKET, P + 'up-cfg', out, Config=TransferConfig(io_chunksize=4096))
    return _digest(out)


@case
def threads_share_one_client(s3):
    # Handlers fan out with threads; one client, concurrent requests on the one channel.
    from concurrent.futures import ThreadPoolExecutor

    def work(i):
        key = P + f'thread/{i}'
        s3.put_object(Bucket=BUCKET, Key=key, Body=body(10000 + i * 997, i))
        got = s3.get_object(Bucket=BUCKET, Key=key)['Body'].read()
        return {'i': i, 'data': norm(got), 'head': s3.head_object(Bucket=BUCKET, Key=key)['ContentLength']}

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(16)))
    return {'results': results, 'listed': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'thread/')['KeyCount']}


@case
def download_file_overwrites(s3):
    path = _workfile('overwrite', b'old content that is longer than the new one')
    s3.put_object(Bucket=BUCKET, Key=P + 'overwrite', Body=b'new')
    s3.download_file(BUCKET, P + 'overwrite', path)
    return _digest(path)


@case
def upload_empty_file(s3):
    s3.upload_file(_workfile('empty-up', b''), BUCKET, P + 'empty-up')
    path = _workfile('empty-down')
    s3.download_file(BUCKET, P + 'empty-up', path)
    return {'head': norm(s3.head_object(Bucket=BUCKET, Key=P + 'empty-up')), 'file': _digest(path)}


@case
def download_fileobj_not_writable(s3):
    return s3.download_fileobj(BUCKET, P + 'bytes', io.BytesIO(b'x').read())


@case
def large_body_streamed_reads(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'mid', Body=body(3 * 1024 * 1024 + 5, 21))
    b = s3.get_object(Bucket=BUCKET, Key=P + 'mid')['Body']
    sizes, h = [], hashlib.sha256()
    for chunk in b.iter_chunks(chunk_size=1 << 20):
        sizes.append(len(chunk))
        h.update(chunk)
    return {'sizes': sizes, 'sha256': h.hexdigest()[:16]}


@case
def client_exceptions_attribute(s3):
    return {'ClientError': s3.exceptions.ClientError is botocore.exceptions.ClientError,
            'from_code': s3.exceptions.from_code('NoSuchKey').__name__,
            'unknown_code': s3.exceptions.from_code('Whatever').__name__}


@case
def waiter_object_exists(s3):
    s3.get_waiter('object_exists').wait(Bucket=BUCKET, Key=P + 'bytes', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})
    return {'names': s3.waiter_names, 'waited': True}


@case
def waiter_object_exists_times_out(s3):
    s3.get_waiter('object_exists').wait(Bucket=BUCKET, Key=P + 'nope', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})


@case
def waiter_object_not_exists(s3):
    s3.get_waiter('object_not_exists').wait(Bucket=BUCKET, Key=P + 'nope', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})
    return True


@case
def waiter_object_not_exists_times_out(s3):
    s3.get_waiter('object_not_exists').wait(Bucket=BUCKET, Key=P + 'bytes', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})


@case
def waiter_denied(s3):
    try:
        s3.get_waiter('object_exists').wait(Bucket=DENIED, Key='secret', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})
    except botocore.exceptions.WaiterError as e:
        return {'message': str(e), 'last_response': norm(e.last_response)}


@case
def waiter_unknown(s3):
    return s3.get_waiter('no_such_waiter')


@case
def resource_wait_until_exists(s3):
    obj = resource().Object(BUCKET, P + 'bytes')
    obj.wait_until_exists(WaiterConfig={'Delay': 0, 'MaxAttempts': 1})
    return obj.content_length


# ---- Resource API ----

@case
def resource_object_attributes(s3):
    obj = resource().Object(BUCKET, P + 'text.txt')
    return {'content_length': obj.content_length, 'e_tag': obj.e_tag, 'content_type': obj.content_type,
            'metadata': obj.metadata, 'last_modified': norm(obj.last_modified), 'version_id': obj.version_id,
            'repr': repr(obj), 'bucket_name': obj.bucket_name, 'key': obj.key}


@case
def resource_object_get_put_delete(s3):
    obj = resource().Bucket(BUCKET).Object(P + 'res-obj')
    put = obj.put(Body=b'resource body', ContentType='text/x-res')
    got = obj.get()
    deleted = obj.delete()
    return {'put': norm(put), 'get': norm(got), 'delete': norm(deleted)}


@case
def resource_object_load_missing(s3):
    resource().Object(BUCKET, P + 'nope').load()


@case
def resource_missing_attribute(s3):
    return resource().Object(BUCKET, P + 'nope').content_length


@case
def resource_identity(s3):
    r = resource()
    return {'eq': r.Object(BUCKET, 'k') == r.Object(BUCKET, 'k'),
            'ne': r.Object(BUCKET, 'k') == r.Object(BUCKET, 'j'),
            'bucket': repr(r.Bucket(BUCKET)), 'summary': repr(r.ObjectSummary(BUCKET, 'k')),
            'hash_eq': hash(r.Object(BUCKET, 'k')) == hash(r.Object(BUCKET, 'k'))}


@case
def resource_missing_identifier(s3):
    return resource().Object(BUCKET)


@case
def resource_collection_filter(s3):
    summaries = list(resource().Bucket(BUCKET).objects.filter(Prefix=P + 'tree/'))
    return [{'key': s.key, 'size': s.size, 'e_tag': s.e_tag, 'bucket_name': s.bucket_name,
             'storage_class': s.storage_class, 'last_modified': norm(s.last_modified), 'repr': repr(s)}
            for s in summaries]


@case
def resource_collection_limit_and_pages(s3):
    objects = resource().Bucket(BUCKET).objects
    return {'limit': [s.key for s in objects.filter(Prefix=P + 'tree/').limit(2)],
            'pages': [len(p) for p in objects.filter(Prefix=P + 'tree/').page_size(4).pages()],
            'all_count': len(list(objects.all()))}


@case
def resource_summary_object_and_get(s3):
    summary = next(iter(resource().Bucket(BUCKET).objects.filter(Prefix=P + 'tree/a')))
    return {'object': repr(summary.Object()), 'get': norm(summary.get())}


@case
def resource_bucket_transfers(s3):
    bucket = resource().Bucket(BUCKET)
    bucket.upload_file(_workfile('res-up', body(20000, 2)), P + 'res-up')
    path = _workfile('res-down')
    bucket.download_file(P + 'res-up', path)
    obj = bucket.Object(P + 'res-up')
    path2 = _workfile('res-down2')
    obj.download_file(path2)
    obj.upload_file(_workfile('res-up2', body(100, 4)))
    return {'bucket_down': _digest(path), 'object_down': _digest(path2), 'after_upload': obj.content_length}


@case
def resource_bucket_put_object(s3):
    obj = resource().Bucket(BUCKET).put_object(Key=P + 'bucket-put', Body=b'from bucket')
    return {'type': type(obj).__name__, 'repr': repr(obj), 'size': obj.content_length}


@case
def resource_collection_delete(s3):
    bucket = resource().Bucket(BUCKET)
    for i in range(3):
        bucket.put_object(Key=P + f'coll-del/{i}', Body=b'x')
    responses = bucket.objects.filter(Prefix=P + 'coll-del/').delete()
    return {'responses': norm(responses), 'left': [s.key for s in bucket.objects.filter(Prefix=P + 'coll-del/')]}


# ---- Parameter validation and the error classes ----

@case
def validation_missing_key(s3):
    return s3.get_object(Bucket=BUCKET)


@case
def validation_unknown_param(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'x', Body=b'x', Bogus=1)


@case
def validation_bad_types(s3):
    return s3.put_object(Bucket=BUCKET, Key=7, Body=3.5, Metadata={'a': 1}, ContentType=None)


@case
def validation_bad_types_no_metadata(s3):
    return s3.put_object(Bucket=BUCKET, Key=7, Body=3.5, ContentType=None)


@case
def validation_non_ascii_metadata(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'x', Body=b'x', Metadata={'name': 'café'})


@case
def validation_empty_key(s3):
    return s3.head_object(Bucket=BUCKET, Key='')


@case
def validation_bad_bucket_name(s3):
    return s3.list_objects_v2(Bucket='not/a/bucket')


@case
def validation_delete_objects_shape(s3):
    return s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Kee': 'x'}], 'Quiet': 'yes'})


@case
def validation_copy_source_dict(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'x', CopySource={'Key': 'x'})


@case
def validation_max_keys_type(s3):
    return s3.list_objects_v2(Bucket=BUCKET, MaxKeys='10')


@case
def error_classes(s3):
    names = ['ClientError', 'ParamValidationError', 'NoCredentialsError', 'BotoCoreError', 'NoRegionError',
             'EndpointConnectionError', 'PartialCredentialsError', 'IncompleteReadError', 'PaginationError']
    return {n: [c.__name__ for c in getattr(botocore.exceptions, n).__mro__] for n in names}


@case
def client_shape(s3):
    return {'class': type(s3).__name__, 'region': s3.meta.region_name,
            'can_paginate': [s3.can_paginate('list_objects_v2'), s3.can_paginate('get_object')],
            'exceptions': sorted(n for n in ('NoSuchKey', 'NoSuchBucket', 'NoSuchUpload', 'BucketAlreadyExists')
                                 if issubclass(getattr(s3.exceptions, n), botocore.exceptions.ClientError)),
            'session_client': type(boto3.session.Session().client(
                's3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'))).__name__}


@case
# ---- Multipart uploads ----

def _big(n, seed):
    return (body(1 << 20, seed) * (n // (1 << 20) + 1))[:n]


@case
def multipart_round_trip(s3):
    key = P + 'mpu'
    created = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType='text/x-mpu', Metadata={'m': '1'},
                                         CacheControl='max-age=9', Tagging='via=mpu')
    upload_id = created['UploadId']
    first = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=_big(5 << 20, 1))
    second = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=2, Body=io.BytesIO(b'tail' * 1000))
    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
    paged = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id, MaxParts=1)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={'Parts': [
        {'ETag': first['ETag'], 'PartNumber': 1}, {'ETag': second['ETag'], 'PartNumber': 2}]})
    got = s3.get_object(Bucket=BUCKET, Key=key)
    data = got['Body'].read()
    return {'created': norm(dict(created, UploadId=bool(upload_id))), 'first': norm(first), 'second': norm(second),
            'listed': norm(dict(listed, UploadId=listed['UploadId'] == upload_id)),
            'paged': norm(dict(paged, UploadId=paged['UploadId'] == upload_id)),
            'done': norm(done), 'got': norm(dict(got, Body=None)), 'data': norm(data),
            'tags': s3.get_object_tagging(Bucket=BUCKET, Key=key)['TagSet']}


@case
def multipart_abort_then_parts_are_gone(s3):
    key = P + 'mpu-abort'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)['UploadId']
    s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b'x' * 100)
    aborted = s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    try:
        s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
        after = 'listed'
    except botocore.exceptions.ClientError as e:
        after = e.response['Error']['Code']
    return {'aborted': norm(aborted), 'after': after}


@case
def multipart_upload_id_of_another_key(s3):
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=P + 'mpu-a')['UploadId']
    try:
        s3.upload_part(Bucket=BUCKET, Key=P + 'mpu-b', UploadId=upload_id, PartNumber=1, Body=b'x')
        return 'uploaded'
    except botocore.exceptions.ClientError as e:
        return [type(e).__name__, e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
    finally:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=P + 'mpu-a', UploadId=upload_id)


@case
def multipart_abort_with_another_key(s3):
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=P + 'mpu-c')['UploadId']
    try:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=P + 'mpu-d', UploadId=upload_id)
        return 'aborted'
    except botocore.exceptions.ClientError as e:
        # The message names the (random) upload id.
        return [type(e).__name__, e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']]
    finally:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=P + 'mpu-c', UploadId=upload_id)


@case
def multipart_complete_wrong_etag(s3):
    key = P + 'mpu-bad'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)['UploadId']
    s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b'x')
    try:
        return s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                            MultipartUpload={'Parts': [{'ETag': '"0000"', 'PartNumber': 1}]})
    finally:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)


@case
def multipart_small_part_not_last(s3):
    key = P + 'mpu-small'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)['UploadId']
    parts = [{'ETag': s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=n, Body=b'y' * 10)['ETag'],
              'PartNumber': n} for n in (1, 2)]
    try:
        return s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={'Parts': parts})
    finally:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)


@case
def multipart_missing_upload(s3):
    return s3.upload_part(Bucket=BUCKET, Key=P + 'mpu-none', UploadId='no-such-upload', PartNumber=1, Body=b'x')


@case
def multipart_denied_bucket(s3):
    return s3.create_multipart_upload(Bucket=DENIED, Key='secret-mpu')


@case
def multipart_missing_bucket(s3):
    return s3.create_multipart_upload(Bucket=MISSING, Key='k')


@case
def validation_multipart_parts_shape(s3):
    return s3.complete_multipart_upload(Bucket=BUCKET, Key=P + 'k', UploadId='u',
                                        MultipartUpload={'Parts': [{'ETag': 1, 'PartNumber': '1', 'Nope': 2}]})


@case
def validation_upload_part_missing_number(s3):
    return s3.upload_part(Bucket=BUCKET, Key=P + 'k', UploadId='u', Body=b'x')


@case
def upload_file_multipart_parts(s3):
    # 12 MiB at a 5 MiB threshold and part size: s3transfer sends three parts; the ETag says so ("-3").
    path = _workfile('up-mpu', _big(12 << 20, 3))
    seen = []
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_file(path, BUCKET, P + 'up-mpu', ExtraArgs={'ContentType': 'a/mpu', 'Metadata': {'k': 'v'}},
                   Callback=seen.append, Config=cfg)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'up-mpu')
    out = _workfile('down-mpu')
    s3.download_file(BUCKET, P + 'up-mpu', out, Config=cfg)
    return {'callback_total': sum(seen), 'head': norm(head), 'etag': head['ETag'], 'same': _digest(out) == _digest(path)}


@case
def upload_fileobj_multipart_unseekable(s3):
    class Pipe:
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def read(self, n=-1):
            return self._data.read(n)

    data = _big(11 << 20, 4)
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_fileobj(Pipe(data), BUCKET, P + 'up-pipe', Config=cfg)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'up-pipe')
    return {'etag': head['ETag'], 'length': head['ContentLength'],
            'same': s3.get_object(Bucket=BUCKET, Key=P + 'up-pipe')['Body'].read() == data}


@case
def upload_file_multipart_missing_bucket(s3):
    path = _workfile('up-mpu-x', _big(6 << 20, 5))
    return s3.upload_file(path, MISSING, 'k', Config=TransferConfig(multipart_threshold=5 << 20))


# ---- Multipart uploads with checksums (S3's COMPOSITE checksum: the checksum of the parts' checksums, "-N") ----

def _b64(digest):
    return base64.b64encode(digest).decode('ascii')


def _composite_sha256(*parts):
    return _b64(hashlib.sha256(b''.join(hashlib.sha256(p).digest() for p in parts)).digest()) + '-%d' % len(parts)


def _abort_quietly(s3, key, upload_id):
    try:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    except botocore.exceptions.ClientError:
        pass


@case
def multipart_checksum_sha256_round_trip(s3):
    # Part 1: botocore computes the part's SHA-256 for the ChecksumAlgorithm; part 2: the function gives the value.
    key = P + 'mpu-ck/sha256'
    first_body, second_body = _big(5 << 20, 21), b'tail-of-the-object' * 300
    created = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm='SHA256')
    upload_id = created['UploadId']
    first = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=first_body,
                           ChecksumAlgorithm='SHA256')
    second = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=2, Body=io.BytesIO(second_body),
                            ChecksumSHA256=_b64(hashlib.sha256(second_body).digest()))
    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={'Parts': [
        {'ETag': first['ETag'], 'ChecksumSHA256': first['ChecksumSHA256'], 'PartNumber': 1},
        {'ETag': second['ETag'], 'ChecksumSHA256': second['ChecksumSHA256'], 'PartNumber': 2}]})
    head = s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode='ENABLED')
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode='ENABLED')
    data = got['Body'].read()
    return {'created': norm(dict(created, UploadId=bool(upload_id))), 'first': norm(first), 'second': norm(second),
            'listed': norm(dict(listed, UploadId=listed['UploadId'] == upload_id)), 'done': norm(done),
            'composite_as_s3': done.get('ChecksumSHA256') == _composite_sha256(first_body, second_body),
            'head': norm(head), 'got': norm(dict(got, Body=None)), 'same': data == first_body + second_body,
            'plain_head': norm(s3.head_object(Bucket=BUCKET, Key=key))}


@case
def multipart_checksum_crc32_one_part(s3):
    key = P + 'mpu-ck/crc32'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm='crc32')['UploadId']
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b'one small part',
                          ChecksumAlgorithm='CRC32')
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={'Parts': [
        {'ETag': part['ETag'], 'ChecksumCRC32': part['ChecksumCRC32'], 'PartNumber': 1}]})
    got = s3.get_object(Bucket=BUCKET, Key=key, ChecksumMode='ENABLED')
    return {'part': norm(part), 'done': norm(done), 'got': norm(got)}


@case
def multipart_part_checksum_mismatch_is_bad_digest(s3):
    key = P + 'mpu-ck/bad'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm='SHA256')['UploadId']
    try:
        outcome = norm(s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b'these bytes',
                                      ChecksumSHA256=_b64(hashlib.sha256(b'other bytes').digest())))
    except botocore.exceptions.ClientError as e:
        outcome = norm_error(e)
    # Nothing of the refused part is kept.
    parts = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id).get('Parts', [])
    _abort_quietly(s3, key, upload_id)
    return {'outcome': outcome, 'parts_kept': len(parts)}


@case
def multipart_part_checksum_of_another_algorithm(s3):
    key = P + 'mpu-ck/other'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm='SHA256')['UploadId']
    try:
        return s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b'x' * 100,
                              ChecksumAlgorithm='CRC32')
    finally:
        _abort_quietly(s3, key, upload_id)


@case
def multipart_part_checksum_on_an_upload_without_one(s3):
    # Checked and answered, but the upload has no algorithm: not listed, not needed to complete, no composite.
    key = P + 'mpu-ck/none'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key)['UploadId']
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b'x' * 100,
                          ChecksumAlgorithm='SHA1')
    listed = s3.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id)
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                        MultipartUpload={'Parts': [{'ETag': part['ETag'], 'PartNumber': 1}]})
    return {'part': norm(part), 'listed': norm(dict(listed, UploadId=None)), 'done': norm(done),
            'head': norm(s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode='ENABLED'))}


@case
def multipart_complete_without_part_checksums(s3):
    key = P + 'mpu-ck/missing'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm='SHA1')['UploadId']
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b'x' * 100,
                          ChecksumAlgorithm='SHA1')
    try:
        return s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                            MultipartUpload={'Parts': [{'ETag': part['ETag'], 'PartNumber': 1}]})
    finally:
        _abort_quietly(s3, key, upload_id)


@case
def multipart_complete_with_a_wrong_part_checksum(s3):
    key = P + 'mpu-ck/wrong'
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm='SHA256')['UploadId']
    part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b'x' * 100,
                          ChecksumAlgorithm='SHA256')
    try:
        return s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={'Parts': [
            {'ETag': part['ETag'], 'ChecksumSHA256': _b64(hashlib.sha256(b'y').digest()), 'PartNumber': 1}]})
    finally:
        _abort_quietly(s3, key, upload_id)


@case
def multipart_create_unknown_checksum_algorithm(s3):
    return s3.create_multipart_upload(Bucket=BUCKET, Key=P + 'mpu-ck/unknown', ChecksumAlgorithm='MD5')


@case
def upload_file_multipart_checksum_algorithm_sha256(s3):
    # s3transfer passes the ChecksumAlgorithm to create_multipart_upload and to every part; 12 MiB at 5 MiB: "-3".
    data = _big(12 << 20, 22)
    path = _workfile('up-mpu-ck', data)
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_file(path, BUCKET, P + 'mpu-ck/upload-file', ExtraArgs={'ChecksumAlgorithm': 'SHA256'}, Config=cfg)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'mpu-ck/upload-file', ChecksumMode='ENABLED')
    chunks = [data[i:i + (5 << 20)] for i in range(0, len(data), 5 << 20)]
    out = _workfile('down-mpu-ck')
    s3.download_file(BUCKET, P + 'mpu-ck/upload-file', out, Config=cfg)
    return {'head': norm(head), 'composite_as_s3': head.get('ChecksumSHA256') == _composite_sha256(*chunks),
            'same': _digest(out) == _digest(path)}


@case
def upload_fileobj_multipart_checksum_algorithm_crc32(s3):
    data = _big(11 << 20, 23)
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, P + 'mpu-ck/upload-fileobj', ExtraArgs={'ChecksumAlgorithm': 'CRC32'},
                      Config=cfg)
    got = s3.get_object(Bucket=BUCKET, Key=P + 'mpu-ck/upload-fileobj', ChecksumMode='ENABLED')
    return {'got': norm(dict(got, Body=None)), 'same': got['Body'].read() == data}


# ---- Presigned URLs (used by a plain HTTP client in another process: no SDK, no credentials) ----

_FETCH = """
import hashlib, json, sys, urllib.request, urllib.error
method, url = sys.argv[1], sys.argv[2]
data = sys.stdin.buffer.read() if method == 'PUT' else None
request = urllib.request.Request(url, data=data, method=method)
try:
    with urllib.request.urlopen(request) as r:
        status, payload = r.status, r.read()
except urllib.error.HTTPError as e:
    status, payload = e.code, e.read()
code = payload.split(b'<Code>')[1].split(b'</Code>')[0].decode() if b'<Code>' in payload else None
# An error document names its request id: only its code is compared.
digest = hashlib.sha256(payload).hexdigest()[:16] if status < 300 else None
print(json.dumps({'status': status, 'sha256': digest, 'code': code}))
"""


def _fetch(method, url, data=b''):
    import subprocess
    done = subprocess.run([sys.executable, '-c', _FETCH, method, url], input=data, capture_output=True, check=True)
    return json.loads(done.stdout)


def _url_shape(url):
    from urllib.parse import parse_qsl, urlsplit
    parts = urlsplit(url)
    return {'scheme': parts.scheme, 'path': parts.path, 'query': sorted(k for k, _ in parse_qsl(parts.query))}


def _signing_client():
    return boto3.client('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'),
                        config=Config(signature_version='s3v4', retries={'max_attempts': 1}))


@case
def presigned_get_works_without_sdk(s3):
    data = body(5000, 21)
    s3.put_object(Bucket=BUCKET, Key=P + 'pre/get', Body=data)
    url = _signing_client().generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/get'},
                                                   ExpiresIn=300)
    return {'shape': _url_shape(url), 'fetched': _fetch('GET', url),
            'expected': hashlib.sha256(data).hexdigest()[:16]}


@case
def presigned_get_with_override(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'pre/over', Body=b'x')
    url = _signing_client().generate_presigned_url(
        'get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/over', 'ResponseContentDisposition': 'attachment'})
    return {'shape': _url_shape(url), 'fetched': _fetch('GET', url)}


@case
def presigned_put_then_get(s3):
    url = _signing_client().generate_presigned_url('put_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/put'},
                                                   ExpiresIn=60)
    fetched = _fetch('PUT', url, b'uploaded by a presigned PUT')
    return {'shape': _url_shape(url), 'fetched': fetched,
            'stored': s3.get_object(Bucket=BUCKET, Key=P + 'pre/put')['Body'].read().decode()}


@case
def presigned_get_expired(s3):
    import time
    s3.put_object(Bucket=BUCKET, Key=P + 'pre/expiring', Body=b'soon gone')
    url = _signing_client().generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/expiring'},
                                                   ExpiresIn=1)
    time.sleep(2.1)
    return _fetch('GET', url)


@case
def presigned_get_missing_key(s3):
    url = _signing_client().generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': P + 'pre/none'})
    return _fetch('GET', url)


@case
def presigned_unknown_method(s3):
    return _signing_client().generate_presigned_url('get_thing', Params={})


@case
def presigned_missing_key_param(s3):
    return _signing_client().generate_presigned_url('get_object', Params={'Bucket': BUCKET})


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
    return {'url': _url_shape(post['url']), 'fields': sorted(post['fields'])}


@case
def presigned_post_upload_then_get(s3):
    post = _signing_client().generate_presigned_post(
        BUCKET, P + 'post/form.txt', Fields={'Content-Type': 'text/plain', 'x-amz-meta-origin': 'form'},
        Conditions=[{'Content-Type': 'text/plain'}, ['starts-with', '$x-amz-meta-origin', ''],
                    ['content-length-range', 1, 1000]], ExpiresIn=300)
    sent = _post_form(post, b'uploaded by a browser form')
    got = s3.get_object(Bucket=BUCKET, Key=P + 'post/form.txt')
    return {'shape': _post_shape(post), 'sent': sent, 'stored': got['Body'].read().decode(),
            'type': got['ContentType'], 'metadata': got['Metadata']}


@case
def presigned_post_with_filename(s3):
    post = _signing_client().generate_presigned_post(BUCKET, P + 'post/by-name/${filename}')
    sent = _post_form(post, body(3000, 9), filename='chosen.bin')
    return {'shape': _post_shape(post), 'sent': sent,
            'stored': norm(s3.get_object(Bucket=BUCKET, Key=P + 'post/by-name/chosen.bin')['Body'].read())}


@case
def presigned_post_201_status(s3):
    post = _signing_client().generate_presigned_post(
        BUCKET, P + 'post/created', Fields={'success_action_status': '201'},
        Conditions=[{'success_action_status': '201'}])
    return _post_form(post, b'x')


@case
def presigned_post_redirect_and_tagging(s3):
    tagging = '<Tagging><TagSet><Tag><Key>origin</Key><Value>form</Value></Tag></TagSet></Tagging>'
    target = 'https://example.invalid/uploaded?from=form'
    post = _signing_client().generate_presigned_post(
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
    post = _signing_client().generate_presigned_post(BUCKET, P + 'post/badtags', Fields={'tagging': tagging},
                                                     Conditions=[{'tagging': tagging}])
    sent = _post_form(post, b'x')
    return {'sent': sent, 'stored': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'post/badtags').get('KeyCount')}


@case
def presigned_post_acl(s3):
    # ACLs are disabled (S3's default): a form stating the owner's full control uploads, a public one stores nothing.
    owner = _signing_client().generate_presigned_post(BUCKET, P + 'post/acl-owner', Fields={'acl': 'bucket-owner-full-control'},
                                                      Conditions=[{'acl': 'bucket-owner-full-control'}])
    public = _signing_client().generate_presigned_post(BUCKET, P + 'post/acl-public', Fields={'acl': 'public-read'},
                                                       Conditions=[{'acl': 'public-read'}])
    return {'owner': _post_form(owner, b'owned'), 'public': _post_form(public, b'public'),
            'stored': [c['Key'] for c in s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'post/acl-').get('Contents', [])]}


@case
def presigned_post_too_large(s3):
    post = _signing_client().generate_presigned_post(BUCKET, P + 'post/big', Conditions=[['content-length-range', 1, 10]])
    sent = _post_form(post, b'y' * 100)
    return {'sent': sent, 'stored': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'post/big').get('KeyCount')}


@case
def presigned_post_field_outside_policy(s3):
    post = _signing_client().generate_presigned_post(BUCKET, P + 'post/extra', Fields={'x-amz-meta-a': '1'})
    return _post_form(post, b'x')


@case
def presigned_post_wrong_content_type(s3):
    post = _signing_client().generate_presigned_post(BUCKET, P + 'post/typed', Fields={'Content-Type': 'image/png'},
                                                     Conditions=[['starts-with', '$Content-Type', 'text/']])
    return _post_form(post, b'x')


@case
def presigned_post_expired(s3):
    import time
    post = _signing_client().generate_presigned_post(BUCKET, P + 'post/late', ExpiresIn=1)
    time.sleep(2.1)
    return _post_form(post, b'x')


@case
def presigned_post_key_changed_by_the_client(s3):
    post = _signing_client().generate_presigned_post(BUCKET, P + 'post/pinned')
    post['fields']['key'] = P + 'post/elsewhere'
    return {'sent': _post_form(post, b'x'), 'stored': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'post/elsewhere').get('KeyCount')}


@case
def presigned_post_policy_rewritten_by_the_client(s3):
    import base64
    post = _signing_client().generate_presigned_post(BUCKET, P + 'post/pinned2')
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
        post = _signing_client().generate_presigned_post(DENIED, 'planted')
    except botocore.exceptions.ClientError as e:
        return {'uploaded': False, 'code': e.response['Error']['Code']}
    sent = _post_form(post, b'planted')
    return {'uploaded': sent['status'] < 300, 'code': sent['code']}


def not_pageable(s3):
    return s3.get_paginator('get_object')


def _large(s3, mib):
    data_path = os.path.join(WORKDIR, 'large-up')
    with open(data_path, 'wb') as f:
        block = body(1 << 20, 17)
        for i in range(mib):
            f.write(block[i % 7:] + block[:i % 7])
    seen_up, seen_down = [], []
    s3.upload_file(data_path, BUCKET, P + 'large', Callback=seen_up.append)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'large')
    out = os.path.join(WORKDIR, 'large-down')
    s3.download_file(BUCKET, P + 'large', out, Callback=seen_down.append)
    ranged = s3.get_object(Bucket=BUCKET, Key=P + 'large', Range=f'bytes={(mib << 20) - 10}-')
    result = {'source': _digest(data_path), 'downloaded': _digest(out), 'callback_up': sum(seen_up),
              'callback_down': sum(seen_down), 'content_length': head['ContentLength'],
              'etag': head['ETag'], 'tail': norm(ranged['Body'].read())}
    os.remove(out)
    os.remove(data_path)
    return result


def run_case(fn, s3):
    try:
        value = fn(s3)
        return {'case': fn.__name__, 'result': norm(value)}
    except Exception as e:  # every outcome, error or not, is part of the record
        return {'case': fn.__name__, 'error': norm_error(e)}


def clean(s3):
    paginator = s3.get_paginator('list_objects_v2')
    for page in paginator.paginate(Bucket=BUCKET, Prefix='dt/'):
        keys = [{'Key': c['Key']} for c in page.get('Contents', [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={'Objects': keys, 'Quiet': True})


def main(argv):
    command = argv[1] if len(argv) > 1 else 'run'
    s3 = client()
    if command == 'setup':
        for name in (BUCKET, DENIED, EMPTY):
            s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=DENIED, Key='secret', Body=b'not for the function')
        s3.put_object(Bucket=BUCKET, Key=CRC32_KEY, Body=body(3000, 5), ChecksumAlgorithm='CRC32')
        print(json.dumps({'setup': 'ok'}))
        return 0
    large_mib = int(argv[argv.index('--large-mib') + 1]) if '--large-mib' in argv else 0
    only = argv[argv.index('--only') + 1].split(',') if '--only' in argv else None
    os.makedirs(WORKDIR, exist_ok=True)
    for name in os.listdir(WORKDIR):
        path = os.path.join(WORKDIR, name)
        if os.path.isfile(path):
            os.remove(path)
    clean(s3)
    records = [run_case(fn, s3) for fn in CASES if only is None or fn.__name__ in only]
    if large_mib:
        def large_object_transfer(client):
            return _large(client, large_mib)
        records.append(run_case(large_object_transfer, s3))
    clean(s3)
    suspicious = ('socket', 'ssl', 'http.client', 'urllib3', 'requests', 'email', 'dateutil',
                  's3transfer')  # concurrent.futures is the script's own (threads case)
    print(json.dumps({'mode': os.environ.get('NEXUS_IO', 'baseline'), 'boto3': boto3.__version__,
                      'botocore': botocore.__version__, 'boto3_file': boto3.__file__,
                      'botocore_file': botocore.__file__,
                      'modules': [m for m in suspicious if m in sys.modules],
                      'cases': records}, indent=1, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
