# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: Multipart uploads with checksums (S3's COMPOSITE checksum: the checksum of the parts' checksums, "-N")."""

import base64
import hashlib
import io

import botocore
import botocore.exceptions
from boto3.s3.transfer import TransferConfig

from difftest_common import BUCKET, P, norm, norm_error, case, big_body, work_file, file_digest


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
    first_body, second_body = big_body(5 << 20, 21), b'tail-of-the-object' * 300
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
    data = big_body(12 << 20, 22)
    path = work_file('up-mpu-ck', data)
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_file(path, BUCKET, P + 'mpu-ck/upload-file', ExtraArgs={'ChecksumAlgorithm': 'SHA256'}, Config=cfg)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'mpu-ck/upload-file', ChecksumMode='ENABLED')
    chunks = [data[i:i + (5 << 20)] for i in range(0, len(data), 5 << 20)]
    out = work_file('down-mpu-ck')
    s3.download_file(BUCKET, P + 'mpu-ck/upload-file', out, Config=cfg)
    return {'head': norm(head), 'composite_as_s3': head.get('ChecksumSHA256') == _composite_sha256(*chunks),
            'same': file_digest(out) == file_digest(path)}


@case
def upload_fileobj_multipart_checksum_algorithm_crc32(s3):
    data = big_body(11 << 20, 23)
    cfg = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, P + 'mpu-ck/upload-fileobj', ExtraArgs={'ChecksumAlgorithm': 'CRC32'},
                      Config=cfg)
    got = s3.get_object(Bucket=BUCKET, Key=P + 'mpu-ck/upload-fileobj', ChecksumMode='ENABLED')
    return {'got': norm(dict(got, Body=None)), 'same': got['Body'].read() == data}
