# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: stored headers, storage class, SSE, Content-MD5, date conditions, response overrides."""

import base64
import datetime
import hashlib

import botocore
import botocore.exceptions

from difftest_common import BUCKET, P, case


def _md5_b64(data):
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


_FIELD_HEADERS = ('cache-control', 'content-disposition', 'content-encoding', 'content-language', 'content-type',
                  'content-length', 'etag', 'accept-ranges', 'x-amz-storage-class', 'x-amz-server-side-encryption',
                  'x-amz-meta-owner')


@case
def http_headers_of_the_answers_fields(s3):
    # Handlers read HTTPHeaders too (a header they know from S3's documentation, the bucket's region after HeadBucket):
    # the headers that carry an answer's fields are there in both modes.
    s3.put_object(Bucket=BUCKET, Key=P + 'headers.txt', Body=b'headers', ContentType='text/plain',
                  CacheControl='no-cache', ContentDisposition='inline', ContentEncoding='identity',
                  ContentLanguage='de', StorageClass='STANDARD_IA', ServerSideEncryption='AES256', Tagging='a=b',
                  Metadata={'owner': 'me'})
    out = {}
    for name, answer in (('head', s3.head_object(Bucket=BUCKET, Key=P + 'headers.txt')),
                         ('get', s3.get_object(Bucket=BUCKET, Key=P + 'headers.txt'))):
        headers = answer['ResponseMetadata']['HTTPHeaders']
        out[name] = {header: headers.get(header) for header in _FIELD_HEADERS}
        out[name]['last-modified'] = 'last-modified' in headers
        if name == 'get':
            # Not compared on HEAD: S3 sends the count there too, and botocore 1.29 has no HeadObject field for it.
            out[name]['x-amz-tagging-count'] = headers.get('x-amz-tagging-count')
    out['head_bucket_region'] = s3.head_bucket(Bucket=BUCKET)['ResponseMetadata']['HTTPHeaders'].get('x-amz-bucket-region')
    return out


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
def put_kms(s3):
    # The fast path: the method alone; storage names the account's default key.
    put = s3.put_object(Bucket=BUCKET, Key=P + 'kms', Body=b'sealed', ServerSideEncryption='aws:kms')
    head = s3.head_object(Bucket=BUCKET, Key=P + 'kms')
    got = s3.get_object(Bucket=BUCKET, Key=P + 'kms')
    return {'put': put, 'head': head, 'get': got, 'body': got['Body'].read()}


@case
def multipart_kms(s3):
    mpu = s3.create_multipart_upload(Bucket=BUCKET, Key=P + 'kms-mpu', ServerSideEncryption='aws:kms')
    part = s3.upload_part(Bucket=BUCKET, Key=P + 'kms-mpu', UploadId=mpu['UploadId'], PartNumber=1, Body=b'part')
    done = s3.complete_multipart_upload(Bucket=BUCKET, Key=P + 'kms-mpu', UploadId=mpu['UploadId'],
                                        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': part['ETag']}]})
    return {'create': dict(mpu, UploadId='<set>'), 'part': part, 'complete': done,
            'head': s3.head_object(Bucket=BUCKET, Key=P + 'kms-mpu')}


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
