# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Archive: copy an object to another prefix, tag the copy, delete the original."""
import os

import boto3

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {'corpus/inbox/invoice-7.txt': b'invoice 7'}
EVENT = {'key': 'corpus/inbox/invoice-7.txt'}


def handler(event, context):
    target = event['key'].replace('corpus/inbox/', 'corpus/archive/')
    s3.copy_object(Bucket=BUCKET, Key=target, CopySource={'Bucket': BUCKET, 'Key': event['key']})
    s3.put_object_tagging(Bucket=BUCKET, Key=target, Tagging={'TagSet': [{'Key': 'state', 'Value': 'archived'}]})
    s3.delete_object(Bucket=BUCKET, Key=event['key'])
    tags = s3.get_object_tagging(Bucket=BUCKET, Key=target)['TagSet']
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix='corpus/inbox/')['KeyCount']
    return {'tags': tags, 'inbox_left': listed}
