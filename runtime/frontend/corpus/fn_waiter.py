# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Write then wait for the object with the object_exists waiter (a common post-upload check)."""
import os

import boto3

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {}
EVENT = {'key': 'corpus/wait/flag'}


def handler(event, context):
    s3.put_object(Bucket=BUCKET, Key=event['key'], Body=b'done')
    s3.get_waiter('object_exists').wait(Bucket=BUCKET, Key=event['key'], WaiterConfig={'Delay': 1, 'MaxAttempts': 3})
    s3.delete_object(Bucket=BUCKET, Key=event['key'])
    s3.get_waiter('object_not_exists').wait(Bucket=BUCKET, Key=event['key'], WaiterConfig={'Delay': 1, 'MaxAttempts': 3})
    return 'ok'
