# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""s3generic cases through boto3.resource('s3'): the sub-resources and collections whose calls the fast path does not
serve (ACLs, bucket configurations, multipart listings, object versions, the bucket waiter). s3generic.py runs them
after its own."""

import botocore.exceptions

from difftest_common import BUCKET, body, case_list, norm, norm_error, resource

P = 'gen/res/'
CASES, case = case_list()


@case
def resource_object_acl(s3):
    resource().Bucket(BUCKET).put_object(Key=P + 'acl', Body=b'x')
    acl = resource().Object(BUCKET, P + 'acl').Acl()
    return {'repr': repr(acl), 'grants': norm(acl.grants), 'owner': norm(acl.owner), 'object': repr(acl.Object())}



@case
def resource_bucket_acl(s3):
    acl = resource().Bucket(BUCKET).Acl()
    return {'repr': repr(acl), 'grants': norm(acl.grants), 'owner': norm(acl.owner), 'bucket': repr(acl.Bucket())}



@case
def resource_bucket_configurations(s3):
    # Each configuration as the store answers it (what it lacks: its error), the same in both modes.
    bucket = resource().Bucket(BUCKET)
    out = {}
    for name, attribute in (('Cors', 'cors_rules'), ('Lifecycle', 'rules'), ('LifecycleConfiguration', 'rules'),
                            ('Logging', 'logging_enabled'), ('Notification', 'topic_configurations'),
                            ('Policy', 'policy'), ('RequestPayment', 'payer'), ('Tagging', 'tag_set'),
                            ('Versioning', 'status'), ('Website', 'index_document')):
        configuration = getattr(bucket, name)()
        try:
            out[name] = {'repr': repr(configuration), 'value': norm(getattr(configuration, attribute))}
        except botocore.exceptions.ClientError as e:
            out[name] = {'repr': repr(configuration), 'error': norm_error(e)}
    return out



@case
def resource_bucket_configuration_write(s3):
    return resource().Bucket(BUCKET).Versioning().enable()



@case
def resource_object_versions(s3):
    bucket = resource().Bucket(BUCKET)
    for name in ('a', 'b'):
        bucket.put_object(Key=P + 'tree/' + name, Body=name.encode())
    versions = bucket.object_versions.filter(Prefix=P + 'tree/')
    listed = [{'key': v.object_key, 'id': v.id, 'is_latest': v.is_latest, 'size': v.size, 'repr': repr(v)}
              for v in versions]
    deleted = versions.delete()
    return {'listed': listed, 'collection': repr(versions), 'deleted': norm(deleted),
            'left': [v.object_key for v in bucket.object_versions.filter(Prefix=P + 'tree/')]}


@case
def resource_object_version_get(s3):
    obj = resource().Bucket(BUCKET).put_object(Key=P + 'text.txt', Body=b'versioned')
    version = obj.Version('null')
    return {'get': norm(version.get()), 'head': norm(version.head()), 'object': repr(version.Object())}


@case
def resource_multipart_listings(s3):
    upload = resource().Object(BUCKET, P + 'mpu').initiate_multipart_upload()
    upload.Part(1).upload(Body=body(5 << 20, 8))
    upload.Part(2).upload(Body=b'tail')
    parts = [{'number': p.part_number, 'size': p.size, 'e_tag': p.e_tag, 'repr': repr(p).replace(upload.id, '<id>')}
             for p in upload.parts.all()]
    listed = [(u.object_key, u.id == upload.id, repr(u).replace(upload.id, '<id>'))
              for u in resource().Bucket(BUCKET).multipart_uploads.filter(Prefix=P + 'mpu')]
    upload.abort()
    return {'parts': parts, 'listed': listed, 'collection': repr(upload.parts).replace(upload.id, '<id>')}


@case
def resource_bucket_waiter(s3):
    resource().Bucket(BUCKET).wait_until_exists(WaiterConfig={'Delay': 1, 'MaxAttempts': 2})
    return 'waited'
