# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: Multipart uploads."""

import io

import botocore
import botocore.exceptions
from boto3.s3.transfer import TransferConfig

from difftest_common import BUCKET, DENIED, MISSING, P, norm, case, big_body, work_file, file_digest


@case
def multipart_round_trip(s3):
    key = P + 'mpu'
    created = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ContentType='text/x-mpu', Metadata={'m': '1'},
                                         CacheControl='max-age=9', Tagging='via=mpu')
    upload_id = created['UploadId']
    first = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=big_body(5 << 20, 1))
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
    path = work_file('up-mpu', big_body(12 << 20, 3))
    seen = []
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_file(path, BUCKET, P + 'up-mpu', ExtraArgs={'ContentType': 'a/mpu', 'Metadata': {'k': 'v'}},
                   Callback=seen.append, Config=cfg)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'up-mpu')
    out = work_file('down-mpu')
    s3.download_file(BUCKET, P + 'up-mpu', out, Config=cfg)
    return {'callback_total': sum(seen), 'head': norm(head), 'etag': head['ETag'], 'same': file_digest(out) == file_digest(path)}


@case
def upload_fileobj_multipart_unseekable(s3):
    class Pipe:
        def __init__(self, data):
            self._data = io.BytesIO(data)

        def read(self, n=-1):
            return self._data.read(n)

    data = big_body(11 << 20, 4)
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_fileobj(Pipe(data), BUCKET, P + 'up-pipe', Config=cfg)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'up-pipe')
    return {'etag': head['ETag'], 'length': head['ContentLength'],
            'same': s3.get_object(Bucket=BUCKET, Key=P + 'up-pipe')['Body'].read() == data}


@case
def upload_file_multipart_missing_bucket(s3):
    path = work_file('up-mpu-x', big_body(6 << 20, 5))
    return s3.upload_file(path, MISSING, 'k', Config=TransferConfig(multipart_threshold=5 << 20))
