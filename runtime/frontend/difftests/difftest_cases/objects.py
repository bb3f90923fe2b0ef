# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: PutObject / GetObject."""

import base64
import hashlib
import io

import botocore
import botocore.exceptions

from difftest_common import BUCKET, DENIED, MISSING, P, case, body


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
def put_key_too_long(s3):
    # 1,100 bytes of UTF-8 (550 two-byte characters): KeyTooLongError, in the store's words in both modes.
    return s3.put_object(Bucket=BUCKET, Key=P + 'é' * 549, Body=b'long')


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
