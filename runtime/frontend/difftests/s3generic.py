# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of S3 calls the stand-in's fast path does not serve (the generic path in nexus mode).

The same calls, run by real boto3 over HTTP (baseline, the function's limited key) and by the stand-in (nexus: the real
botocore in the sandbox, each request sent unsigned over the channel and signed by the backend within the function's
grants). Each case prints a normalized record; tests/Nexus.Frontend.Tests/S3GenericPathTests compares them.

  python3 s3generic.py run       run every case, print {"cases": [...], "generic_loaded": bool}

Environment: as difftest.py (DIFFTEST_BUCKET, DIFFTEST_DENIED_BUCKET, NEXUS_S3_ENDPOINT, AWS_* in baseline).
"""

import base64
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import boto3  # noqa: E402
import botocore.exceptions  # noqa: E402
import s3generic_events  # noqa: E402
import s3generic_presigned  # noqa: E402
import s3generic_resources  # noqa: E402
from difftest_common import BUCKET, DENIED, EMPTY, big_body, body, case_list, client, norm, norm_error  # noqa: E402

P = 'gen/'
CASES, case = case_list()


def _start_upload(s3, key):
    return s3.create_multipart_upload(Bucket=BUCKET, Key=key)['UploadId']


@case
def list_multipart_uploads_by_prefix(s3):
    ids = [_start_upload(s3, P + 'mpu/a'), _start_upload(s3, P + 'mpu/b'), _start_upload(s3, P + 'other/c')]
    listed = s3.list_multipart_uploads(Bucket=BUCKET, Prefix=P + 'mpu/')
    keys = [u['Key'] for u in listed.get('Uploads', [])]
    found = [u['UploadId'] in ids for u in listed.get('Uploads', [])]
    for upload_id, key in zip(ids, (P + 'mpu/a', P + 'mpu/b', P + 'other/c')):
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    return {'keys': keys, 'ours': found, 'prefix': listed.get('Prefix'), 'truncated': listed['IsTruncated'],
            'status': listed['ResponseMetadata']['HTTPStatusCode']}


@case
def list_multipart_uploads_paginated(s3):
    keys = [P + f'page/{i}' for i in range(5)]
    ids = [_start_upload(s3, key) for key in keys]
    pages = s3.get_paginator('list_multipart_uploads').paginate(
        Bucket=BUCKET, Prefix=P + 'page/', PaginationConfig={'PageSize': 2})
    seen = [[u['Key'] for u in page.get('Uploads', [])] for page in pages]
    for key, upload_id in zip(keys, ids):
        s3.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id)
    return seen


@case
def list_multipart_uploads_denied_bucket(s3):
    return s3.list_multipart_uploads(Bucket=DENIED)


@case
def upload_part_copy_round_trip(s3):
    source = body(6 << 20, 5)
    s3.put_object(Bucket=BUCKET, Key=P + 'copy/source', Body=source)
    upload_id = _start_upload(s3, P + 'copy/target')
    first = s3.upload_part_copy(Bucket=BUCKET, Key=P + 'copy/target', UploadId=upload_id, PartNumber=1,
                                CopySource={'Bucket': BUCKET, 'Key': P + 'copy/source'},
                                CopySourceRange=f'bytes=0-{(5 << 20) - 1}')
    second = s3.upload_part_copy(Bucket=BUCKET, Key=P + 'copy/target', UploadId=upload_id, PartNumber=2,
                                 CopySource=f'{BUCKET}/{P}copy/source', CopySourceRange=f'bytes={5 << 20}-{(6 << 20) - 1}')
    done = s3.complete_multipart_upload(
        Bucket=BUCKET, Key=P + 'copy/target', UploadId=upload_id,
        MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': first['CopyPartResult']['ETag']},
                                   {'PartNumber': 2, 'ETag': second['CopyPartResult']['ETag']}]})
    copied = s3.get_object(Bucket=BUCKET, Key=P + 'copy/target')['Body'].read()
    return {'first': norm(first), 'etag': done['ETag'], 'same': copied == source,
            'sha256': hashlib.sha256(copied).hexdigest()[:16]}


@case
def managed_copy_multipart(s3):
    # s3.copy() of an object at or past TransferConfig.multipart_threshold is s3transfer's multipart copy (UploadPartCopy
    # ranges): the new object has a `-N` ETag and, in s3transfer 0.6, neither the source's Content-Type nor its metadata.
    from boto3.s3.transfer import TransferConfig
    source = big_body(9 << 20, 7)
    s3.put_object(Bucket=BUCKET, Key=P + 'mcopy/source', Body=source, ContentType='application/x-source',
                  Metadata={'origin': 'source'})
    seen = []
    s3.copy({'Bucket': BUCKET, 'Key': P + 'mcopy/source'}, BUCKET, P + 'mcopy/default', Callback=seen.append,
            ExtraArgs={'Metadata': {'given': 'extra'}})
    small = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    boto3.resource('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT')).Object(BUCKET, P + 'mcopy/config').copy(
        {'Bucket': BUCKET, 'Key': P + 'mcopy/source'}, Config=small)
    s3.copy({'Bucket': BUCKET, 'Key': P + 'mcopy/source'}, BUCKET, P + 'mcopy/below',
            Config=TransferConfig(multipart_threshold=10 << 20))
    out = {'callback_total': sum(seen), 'callbacks': len(seen)}
    for name in ('default', 'config', 'below'):
        head = s3.head_object(Bucket=BUCKET, Key=P + 'mcopy/' + name)
        out[name] = {field: head.get(field) for field in ('ETag', 'ContentType', 'Metadata', 'ContentLength')}
    out['same'] = s3.get_object(Bucket=BUCKET, Key=P + 'mcopy/config')['Body'].read() == source
    return out


@case
def upload_part_copy_from_denied_bucket(s3):
    upload_id = _start_upload(s3, P + 'copy/denied')
    try:
        return s3.upload_part_copy(Bucket=BUCKET, Key=P + 'copy/denied', UploadId=upload_id, PartNumber=1,
                                   CopySource={'Bucket': DENIED, 'Key': 'secret'})
    finally:
        s3.abort_multipart_upload(Bucket=BUCKET, Key=P + 'copy/denied', UploadId=upload_id)


@case
def upload_part_copy_missing_upload(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'copy/src2', Body=b'x')
    return s3.upload_part_copy(Bucket=BUCKET, Key=P + 'copy/none', UploadId='no-such-upload', PartNumber=1,
                               CopySource={'Bucket': BUCKET, 'Key': P + 'copy/src2'})


@case
def put_kms_named_key(s3):
    # A named key, a context and a bucket key: the generic path.
    context = base64.b64encode(b'{"project":"nexus"}').decode()
    put = s3.put_object(Bucket=BUCKET, Key=P + 'kms-named', Body=b'sealed', ServerSideEncryption='aws:kms',
                        SSEKMSKeyId='alias/app', SSEKMSEncryptionContext=context, BucketKeyEnabled=True)
    return {'put': put, 'head': s3.head_object(Bucket=BUCKET, Key=P + 'kms-named'),
            'get': s3.get_object(Bucket=BUCKET, Key=P + 'kms-named')}


@case
def put_kms_key_without_kms(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'kms-bad', Body=b'x', SSEKMSKeyId='alias/app')


@case
def put_and_get_with_a_customer_key(s3):
    key = b'c' * 32
    put = s3.put_object(Bucket=BUCKET, Key=P + 'ssec', Body=b'customer', SSECustomerAlgorithm='AES256', SSECustomerKey=key)
    got = s3.get_object(Bucket=BUCKET, Key=P + 'ssec', SSECustomerAlgorithm='AES256', SSECustomerKey=key)
    outcomes = {}
    # Without the key (the fast path) and with another: refused as S3 refuses them. (A HEAD without the key is left
    # out: real botocore answers a HEAD's 400 by asking the bucket's region and sending it again, RetryAttempts 1.)
    for name, call in (('get', lambda: s3.get_object(Bucket=BUCKET, Key=P + 'ssec')),
                       ('other_key', lambda: s3.get_object(Bucket=BUCKET, Key=P + 'ssec', SSECustomerAlgorithm='AES256',
                                                           SSECustomerKey=b'o' * 32))):
        try:
            call()
            outcomes[name] = 'served'
        except botocore.exceptions.ClientError as e:
            outcomes[name] = norm_error(e)
    return {'put': put, 'get': got, 'refused': outcomes}


@case
def get_bucket_location(s3):
    return s3.get_bucket_location(Bucket=BUCKET)


@case
def get_bucket_location_denied(s3):
    return s3.get_bucket_location(Bucket=DENIED)


@case
def get_bucket_versioning(s3):
    return s3.get_bucket_versioning(Bucket=BUCKET)


@case
def list_object_versions(s3):
    for i in range(3):
        s3.put_object(Bucket=BUCKET, Key=P + f'ver/{i}', Body=body(10 + i))
    s3.put_object(Bucket=BUCKET, Key=P + 'ver/sub/x', Body=b'x')
    return s3.list_object_versions(Bucket=BUCKET, Prefix=P + 'ver/', Delimiter='/')


@case
def list_object_versions_paginated(s3):
    for i in range(5):
        s3.put_object(Bucket=BUCKET, Key=P + f'verpage/{i}', Body=b'v')
    pages = s3.get_paginator('list_object_versions').paginate(
        Bucket=BUCKET, Prefix=P + 'verpage/', PaginationConfig={'PageSize': 2})
    return [[(v['Key'], v['VersionId'], v['IsLatest']) for v in page.get('Versions', [])] for page in pages]


@case
def list_object_versions_denied(s3):
    return s3.list_object_versions(Bucket=DENIED)


@case
def get_object_with_null_version(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'nullver', Body=b'versioned?')
    return s3.get_object(Bucket=BUCKET, Key=P + 'nullver', VersionId='null')


@case
def head_object_with_null_version(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'nullver-head', Body=b'abc')
    return s3.head_object(Bucket=BUCKET, Key=P + 'nullver-head', VersionId='null')


@case
def head_object_version_denied(s3):
    return s3.head_object(Bucket=DENIED, Key='secret', VersionId='null')


def _multipart(s3, key, parts, **create):
    """Parts 1..N (with their SHA-256 when create names it), completed; returns the completion."""
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, **create)['UploadId']
    done = []
    for number, data in enumerate(parts, 1):
        extra = {'ChecksumAlgorithm': create['ChecksumAlgorithm']} if 'ChecksumAlgorithm' in create else {}
        part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=data, **extra)
        done.append({'PartNumber': number, 'ETag': part['ETag'],
                     **({'ChecksumSHA256': part['ChecksumSHA256']} if 'ChecksumSHA256' in part else {})})
    return s3.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id, MultipartUpload={'Parts': done})


_ALL_ATTRIBUTES = ['ETag', 'Checksum', 'ObjectParts', 'StorageClass', 'ObjectSize']


@case
def get_object_attributes_of_a_composite_multipart_object(s3):
    parts = [body(5 << 20, 11), body(5 << 20, 12), body(1000, 13)]
    _multipart(s3, P + 'attr/composite', parts, ChecksumAlgorithm='SHA256')
    whole = s3.get_object_attributes(Bucket=BUCKET, Key=P + 'attr/composite', ObjectAttributes=_ALL_ATTRIBUTES)
    page = s3.get_object_attributes(Bucket=BUCKET, Key=P + 'attr/composite', ObjectAttributes=['ObjectParts'],
                                    MaxParts=1, PartNumberMarker=1)
    composite = base64.b64encode(hashlib.sha256(b''.join(hashlib.sha256(p).digest() for p in parts)).digest()).decode()
    return {'whole': whole, 'page': page, 'composite_matches': whole['Checksum']['ChecksumSHA256'] == composite}


def _sha256_upload(s3, key, parts):
    """A SHA-256 upload of parts 1..N, not completed: (upload id, the completion's part list, the composite checksum)."""
    upload_id = s3.create_multipart_upload(Bucket=BUCKET, Key=key, ChecksumAlgorithm='SHA256')['UploadId']
    listed = []
    for number, data in enumerate(parts, 1):
        part = s3.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
                              ChecksumAlgorithm='SHA256')
        listed.append({'PartNumber': number, 'ETag': part['ETag'], 'ChecksumSHA256': part['ChecksumSHA256']})
    composite = base64.b64encode(hashlib.sha256(b''.join(hashlib.sha256(p).digest() for p in parts)).digest()).decode()
    return upload_id, listed, composite


@case
def complete_multipart_upload_stating_the_objects_checksum(s3):
    # botocore 1.29 sends ChecksumSHA256 of complete_multipart_upload as x-amz-checksum-sha256: the object's checksum.
    upload_id, listed, composite = _sha256_upload(s3, P + 'stated/right', [body(5 << 20, 18), b'end'])
    return s3.complete_multipart_upload(Bucket=BUCKET, Key=P + 'stated/right', UploadId=upload_id,
                                        MultipartUpload={'Parts': listed}, ChecksumSHA256=composite)


@case
def complete_multipart_upload_stating_a_wrong_checksum(s3):
    upload_id, listed, composite = _sha256_upload(s3, P + 'stated/wrong', [body(5 << 20, 19), b'end'])
    try:
        s3.complete_multipart_upload(Bucket=BUCKET, Key=P + 'stated/wrong', UploadId=upload_id,
                                     MultipartUpload={'Parts': listed}, ChecksumSHA256=listed[0]['ChecksumSHA256'])
        refused = None
    except botocore.exceptions.ClientError as e:
        refused = norm_error(e)
    # Nothing stored, the upload kept.
    kept = len(s3.list_parts(Bucket=BUCKET, Key=P + 'stated/wrong', UploadId=upload_id).get('Parts', []))
    s3.abort_multipart_upload(Bucket=BUCKET, Key=P + 'stated/wrong', UploadId=upload_id)
    return {'refused': refused, 'kept_parts': kept,
            'stored': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'stated/wrong')['KeyCount']}


@case
def get_object_attributes_of_a_plain_multipart_object(s3):
    _multipart(s3, P + 'attr/plain', [body(5 << 20, 14), b'tail'])
    return s3.get_object_attributes(Bucket=BUCKET, Key=P + 'attr/plain', ObjectAttributes=_ALL_ATTRIBUTES)


@case
def get_object_attributes_of_a_single_put(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'attr/single', Body=b'single', ChecksumAlgorithm='CRC32',
                  StorageClass='STANDARD_IA')
    return s3.get_object_attributes(Bucket=BUCKET, Key=P + 'attr/single', ObjectAttributes=_ALL_ATTRIBUTES)


@case
def get_object_attributes_sees_the_latest_put(s3):
    # Read-your-writes: in nexus mode the second put is acknowledged from the write-back spool; the generic path's
    # attributes call waits for it to land, so it never answers the first version's ETag and size.
    s3.put_object(Bucket=BUCKET, Key=P + 'attr/latest', Body=b'first version')
    s3.put_object(Bucket=BUCKET, Key=P + 'attr/latest', Body=b'second, longer version')
    got = s3.get_object_attributes(Bucket=BUCKET, Key=P + 'attr/latest', ObjectAttributes=['ETag', 'ObjectSize'])
    return {'etag_is_second': got['ETag'] == hashlib.md5(b'second, longer version').hexdigest(), 'size': got['ObjectSize']}


@case
def get_object_attributes_missing_key(s3):
    return s3.get_object_attributes(Bucket=BUCKET, Key=P + 'attr/none', ObjectAttributes=['ETag'])


@case
def get_object_attributes_denied(s3):
    return s3.get_object_attributes(Bucket=DENIED, Key='secret', ObjectAttributes=['ETag'])


@case
def get_object_part_numbers(s3):
    parts = [body(5 << 20, 15), body(777, 16)]
    _multipart(s3, P + 'part/mp', parts, ChecksumAlgorithm='SHA256')
    second = s3.get_object(Bucket=BUCKET, Key=P + 'part/mp', PartNumber=2, ChecksumMode='ENABLED')
    data = second.pop('Body').read()
    first = s3.head_object(Bucket=BUCKET, Key=P + 'part/mp', PartNumber=1)
    return {'second': second, 'second_body_is_part_2': data == parts[1], 'first': first}


@case
def get_object_part_number_past_the_count(s3):
    _multipart(s3, P + 'part/past', [body(5 << 20, 17), b'x'])
    return s3.get_object(Bucket=BUCKET, Key=P + 'part/past', PartNumber=3)


@case
def head_object_part_number_past_the_count(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'part/single-head', Body=b'one part')
    return s3.head_object(Bucket=BUCKET, Key=P + 'part/single-head', PartNumber=2)


@case
def get_object_part_number_of_a_single_put(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'part/single', Body=b'the whole object')
    return s3.get_object(Bucket=BUCKET, Key=P + 'part/single', PartNumber=1)


@case
def get_object_part_number_with_a_range(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'part/ranged', Body=b'0123456789')
    return s3.get_object(Bucket=BUCKET, Key=P + 'part/ranged', PartNumber=1, Range='bytes=0-3')


@case
def get_object_part_number_sees_the_latest_put(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'part/latest', Body=b'old')
    s3.put_object(Bucket=BUCKET, Key=P + 'part/latest', Body=b'new body')
    return s3.get_object(Bucket=BUCKET, Key=P + 'part/latest', PartNumber=1)


@case
def get_object_part_number_denied(s3):
    return s3.get_object(Bucket=DENIED, Key='secret', PartNumber=1)


@case
def get_object_acl(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'acl', Body=b'x')
    return s3.get_object_acl(Bucket=BUCKET, Key=P + 'acl')


@case
def get_bucket_acl(s3):
    return s3.get_bucket_acl(Bucket=BUCKET)


@case
def get_object_acl_denied(s3):
    return s3.get_object_acl(Bucket=DENIED, Key='secret')


@case
def put_object_with_owner_full_control_acl(s3):
    put = s3.put_object(Bucket=BUCKET, Key=P + 'acl/owner', Body=b'owned', ACL='bucket-owner-full-control')
    return {'put': put, 'read': s3.get_object(Bucket=BUCKET, Key=P + 'acl/owner')['Body'].read()}


@case
def put_object_with_public_acl_is_refused(s3):
    try:
        s3.put_object(Bucket=BUCKET, Key=P + 'acl/public', Body=b'x', ACL='public-read')
        refused = None
    except botocore.exceptions.ClientError as e:
        refused = norm_error(e)
    return {'refused': refused, 'stored': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'acl/public')['KeyCount']}


@case
def put_object_with_private_acl_is_refused(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'acl/private', Body=b'x', ACL='private')


@case
def put_object_with_a_grant_is_refused(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'acl/grant', Body=b'x', GrantRead='uri="http://acs.amazonaws.com/groups/global/AllUsers"')


@case
def copy_object_with_public_acl_is_refused(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'acl/src', Body=b'x')
    return s3.copy_object(Bucket=BUCKET, Key=P + 'acl/copy', CopySource={'Bucket': BUCKET, 'Key': P + 'acl/src'},
                          ACL='public-read')


@case
def create_multipart_upload_with_public_acl_is_refused(s3):
    return s3.create_multipart_upload(Bucket=BUCKET, Key=P + 'acl/mpu', ACL='public-read-write')


@case
def put_object_acl(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'acl/put', Body=b'x')
    accepted = s3.put_object_acl(Bucket=BUCKET, Key=P + 'acl/put', ACL='bucket-owner-full-control')
    try:
        s3.put_object_acl(Bucket=BUCKET, Key=P + 'acl/put', ACL='public-read')
        refused = None
    except botocore.exceptions.ClientError as e:
        refused = norm_error(e)
    return {'accepted': accepted, 'refused': refused}


@case
def put_bucket_acl_refused(s3):
    return s3.put_bucket_acl(Bucket=BUCKET, ACL='bucket-owner-full-control')


@case
def put_bucket_cors_refused(s3):
    return s3.put_bucket_cors(Bucket=BUCKET, CORSConfiguration={
        'CORSRules': [{'AllowedMethods': ['GET'], 'AllowedOrigins': ['*']}]})


@case
def delete_bucket_refused(s3):
    return s3.delete_bucket(Bucket=BUCKET)


@case
def delete_bucket_under_a_just_acknowledged_put(s3):
    # delete_bucket has no fast-path op (the generic path in nexus mode). The bucket is empty but for this put, which in
    # nexus mode may still wait in the node's write-back spool. A function may never delete a bucket, in either mode
    # (buckets belong to the node), and the refusal comes before storage is asked: the acknowledged put is not lost
    # under a delete that storage, not seeing it yet, would allow.
    s3.put_object(Bucket=EMPTY, Key=P + 'acknowledged', Body=b'acknowledged before the delete')
    try:
        outcome = norm(s3.delete_bucket(Bucket=EMPTY))
    except botocore.exceptions.ClientError as e:
        outcome = norm_error(e)
    read = s3.get_object(Bucket=EMPTY, Key=P + 'acknowledged')['Body'].read()
    # Empty again for the other mode's run.
    s3.delete_object(Bucket=EMPTY, Key=P + 'acknowledged')
    return {'outcome': outcome, 'read': read.decode()}


@case
def get_bucket_policy_never_set(s3):
    return s3.get_bucket_policy(Bucket=BUCKET)


@case
def bucket_configurations_never_set(s3):
    # Each configuration a function may read, as S3 answers for a bucket where it was never set; the denied bucket's
    # is refused before that.
    out = {}
    for name in ('get_bucket_policy_status', 'get_bucket_cors', 'get_bucket_lifecycle_configuration', 'get_bucket_tagging',
                 'get_bucket_website', 'get_bucket_encryption', 'get_bucket_replication', 'get_object_lock_configuration',
                 'get_bucket_notification_configuration', 'get_bucket_logging', 'get_bucket_accelerate_configuration',
                 'get_bucket_request_payment', 'get_bucket_ownership_controls', 'get_public_access_block',
                 'list_bucket_metrics_configurations', 'list_bucket_intelligent_tiering_configurations'):
        try:
            out[name] = norm(getattr(s3, name)(Bucket=BUCKET))
        except botocore.exceptions.ClientError as e:
            out[name] = norm_error(e)
    try:
        out['denied'] = norm(s3.get_public_access_block(Bucket=DENIED))
    except botocore.exceptions.ClientError as e:
        out['denied'] = norm_error(e)
    return out


@case
def object_lock_and_restore_refused(s3):
    # Object lock needs a bucket created with it: a locked put is refused and stores nothing; an object's retention
    # and legal hold answer as for a bucket without it; no object is archived, so a restore is refused.
    out = {}
    for name, call in (
            ('locked_put', lambda: s3.put_object(Bucket=BUCKET, Key=P + 'locked', Body=b'x', ObjectLockMode='GOVERNANCE',
                                                 ObjectLockRetainUntilDate='2099-01-01T00:00:00Z')),
            ('stored', lambda: s3.head_object(Bucket=BUCKET, Key=P + 'locked')),
            ('retention', lambda: s3.get_object_retention(Bucket=BUCKET, Key=P + 'unlocked')),
            ('legal_hold', lambda: s3.put_object_legal_hold(Bucket=BUCKET, Key=P + 'unlocked', LegalHold={'Status': 'ON'})),
            ('restore', lambda: s3.restore_object(Bucket=BUCKET, Key=P + 'unlocked', RestoreRequest={'Days': 1}))):
        if name == 'retention':
            s3.put_object(Bucket=BUCKET, Key=P + 'unlocked', Body=b'x')
        try:
            out[name] = norm(call())
        except botocore.exceptions.ClientError as e:
            out[name] = norm_error(e)
    return out


@case
def version_ids_an_object_does_not_have(s3):
    # Every object's one version is "null" (no versioning): a call naming another version is refused (InvalidArgument;
    # a HEAD says 400) and never taken for the current version: the delete of "version abc" leaves the object.
    key = P + 'versioned'
    s3.put_object(Bucket=BUCKET, Key=key, Body=b'only version')
    out = {}
    for name, call in (
            ('get', lambda: s3.get_object(Bucket=BUCKET, Key=key, VersionId='abc')),
            ('head', lambda: s3.head_object(Bucket=BUCKET, Key=key, VersionId='abc')),
            ('tagging', lambda: s3.get_object_tagging(Bucket=BUCKET, Key=key, VersionId='abc')),
            ('delete', lambda: s3.delete_object(Bucket=BUCKET, Key=key, VersionId='abc')),
            ('empty', lambda: s3.delete_object(Bucket=BUCKET, Key=key, VersionId='')),
            ('copy_dict', lambda: s3.copy_object(Bucket=BUCKET, Key=key + '-copy',
                                                 CopySource={'Bucket': BUCKET, 'Key': key, 'VersionId': 'abc'})),
            ('copy_string', lambda: s3.copy_object(Bucket=BUCKET, Key=key + '-copy',
                                                   CopySource=f'{BUCKET}/{key}?versionId=abc')),
            ('get_null', lambda: s3.get_object(Bucket=BUCKET, Key=key, VersionId='null')['Body'].read())):
        try:
            out[name] = norm(call())
        except botocore.exceptions.ClientError as e:
            out[name] = norm_error(e)
    out['left'] = s3.get_object(Bucket=BUCKET, Key=key)['Body'].read()
    out['copied'] = s3.list_objects_v2(Bucket=BUCKET, Prefix=key + '-copy').get('KeyCount')
    return out


@case
def copy_onto_itself_to_another_storage_class(s3):
    # The in-place storage-class change (copy_object with StorageClass has no fast-path op): allowed, metadata kept;
    # the same copy stating nothing is refused.
    key = P + 'in-place'
    s3.put_object(Bucket=BUCKET, Key=key, Body=b'same bytes', Metadata={'kept': 'yes'})
    try:
        unchanged = norm(s3.copy_object(Bucket=BUCKET, Key=key, CopySource={'Bucket': BUCKET, 'Key': key}))
    except botocore.exceptions.ClientError as e:
        unchanged = norm_error(e)
    s3.copy_object(Bucket=BUCKET, Key=key, CopySource={'Bucket': BUCKET, 'Key': key}, StorageClass='STANDARD_IA')
    head = s3.head_object(Bucket=BUCKET, Key=key)
    return {'unchanged': unchanged, 'class': head.get('StorageClass'), 'metadata': head['Metadata'],
            'body': s3.get_object(Bucket=BUCKET, Key=key)['Body'].read()}


@case
def website_redirect_location(s3):
    # put_object with WebsiteRedirectLocation has no fast-path op: kept and answered; a bad one refused.
    s3.put_object(Bucket=BUCKET, Key=P + 'redirect', Body=b'x', WebsiteRedirectLocation='/elsewhere.html')
    try:
        bad = norm(s3.put_object(Bucket=BUCKET, Key=P + 'redirect-bad', Body=b'x', WebsiteRedirectLocation='elsewhere'))
    except botocore.exceptions.ClientError as e:
        bad = norm_error(e)
    return {'kept': s3.head_object(Bucket=BUCKET, Key=P + 'redirect').get('WebsiteRedirectLocation'), 'bad': bad}


@case
def expires_read_back_by_the_fast_path(s3):
    # put_object with Expires has no fast-path op; the object's Expires is answered by GET and HEAD (a datetime, as
    # botocore parses the header), and the Expires header is in HTTPHeaders.
    import datetime
    when = datetime.datetime(2030, 1, 2, 3, 4, 5, tzinfo=datetime.timezone.utc)
    s3.put_object(Bucket=BUCKET, Key=P + 'expires', Body=b'x', Expires=when, CacheControl='max-age=5')
    got = s3.get_object(Bucket=BUCKET, Key=P + 'expires')
    head = s3.head_object(Bucket=BUCKET, Key=P + 'expires')
    return {'get': str(got.get('Expires')), 'head': str(head.get('Expires')),
            'aware': head['Expires'].utcoffset() is not None if 'Expires' in head else None,
            'header': head['ResponseMetadata']['HTTPHeaders'].get('expires')}


@case
def delete_objects_with_bypass_header(s3):
    for name in ('a', 'b'):
        s3.put_object(Bucket=BUCKET, Key=P + 'bypass/' + name, Body=b'x')
    result = s3.delete_objects(Bucket=BUCKET, BypassGovernanceRetention=True,
                               Delete={'Objects': [{'Key': P + 'bypass/a'}, {'Key': P + 'bypass/b'}]})
    left = s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'bypass/').get('KeyCount')
    return {'deleted': sorted(d['Key'] for d in result.get('Deleted', [])), 'left': left}


@case
def delete_objects_naming_a_denied_bucket_key(s3):
    return s3.delete_objects(Bucket=DENIED, BypassGovernanceRetention=True, Delete={'Objects': [{'Key': 'secret'}]})


@case
def bucket_exists_waiter(s3):
    s3.get_waiter('bucket_exists').wait(Bucket=BUCKET, WaiterConfig={'Delay': 1, 'MaxAttempts': 2})
    return 'waited'


@case
def modeled_exception_of_a_generic_call(s3):
    try:
        s3.list_parts(Bucket=BUCKET, Key=P + 'nothing', UploadId='missing', MaxParts=1, RequestPayer='requester',
                      SSECustomerAlgorithm='AES256')
    except s3.exceptions.NoSuchUpload as e:
        return {'caught': 'NoSuchUpload', 'code': e.response['Error']['Code']}


@case
def client_service_model(s3):
    # What the stand-in does not keep of botocore's ServiceModel is the real botocore's model (loaded as the generic
    # path loads it).
    model = s3.meta.service_model
    get_object = model.operation_model('GetObject')
    return {'service_name': model.service_name, 'signature_version': model.signature_version,
            'operation_names': model.operation_names, 'get_object': {
                'name': get_object.name, 'http': get_object.http,
                'input': list(get_object.input_shape.members), 'output': list(get_object.output_shape.members)},
            'tag_shape': list(model.shape_for('Tag').members)}


@case
def generic_path_service_the_node_does_not_serve(s3):
    # As difftest's services_the_node_does_not_serve, for a call the real botocore makes in nexus mode (Lambda's
    # GetFunction): botocore's own EndpointConnectionError.
    from botocore.config import Config
    client = boto3.client('lambda', endpoint_url='http://127.0.0.1:9', region_name='us-east-1',
                          config=Config(retries={'max_attempts': 0}))
    try:
        return client.get_function(FunctionName='other')
    except botocore.exceptions.EndpointConnectionError as e:
        return norm_error(e)


# The resource layer's generic calls and the clients with event handlers run after the client's own.
CASES.extend(s3generic_resources.CASES)
CASES.extend(s3generic_events.CASES)
CASES.extend(s3generic_presigned.CASES)


def run_case(fn, s3):
    try:
        return {'case': fn.__name__, 'result': norm(fn(s3))}
    except Exception as e:  # every outcome, error or not, is part of the record
        return {'case': fn.__name__, 'error': norm_error(e)}


def clean(s3):
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=P):
        keys = [{'Key': c['Key']} for c in page.get('Contents', [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={'Objects': keys, 'Quiet': True})


def main(argv):
    s3 = client()
    clean(s3)
    records = [run_case(fn, s3) for fn in CASES]
    clean(s3)
    print(json.dumps({'mode': os.environ.get('NEXUS_IO', 'baseline'), 'boto3_file': boto3.__file__,
                      'generic_loaded': 'botocore._nexus_generic' in sys.modules,
                      'cases': records}, indent=1, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
