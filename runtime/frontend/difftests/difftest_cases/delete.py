# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: Delete."""

from difftest_common import BUCKET, MISSING, P, case


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
def delete_objects_empty_list(s3):
    # A cleanup that found nothing to delete: S3 refuses an empty Delete (MalformedXML), so must nexus mode.
    return s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [], 'Quiet': True})


@case
def delete_objects_gone(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'd')


@case
def delete_objects_naming_versions(s3):
    # Every object's one version is "null" (no versioning): an entry naming another version fails with NoSuchVersion
    # and deletes nothing; one naming "null" deletes the object and says so.
    for k in ('v-kept', 'v-null'):
        s3.put_object(Bucket=BUCKET, Key=P + k, Body=b'x')
    result = s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Key': P + 'v-kept', 'VersionId': 'abc'},
                                                                  {'Key': P + 'v-null', 'VersionId': 'null'}]})
    left = [o['Key'] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'v-').get('Contents', [])]
    return {'result': result, 'left': left}
