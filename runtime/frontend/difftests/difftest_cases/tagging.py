# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: object tagging."""

from difftest_common import BUCKET, DENIED, P, case


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
