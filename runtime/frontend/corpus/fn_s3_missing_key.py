# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Error handling with the modeled exception class: a missing object is reported, not raised."""
import os

import boto3

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {}
EVENT = {'key': 'corpus/nothing-here'}


def handler(event, context):
    try:
        s3.get_object(Bucket=BUCKET, Key=event['key'])
        return {'found': True}
    except s3.exceptions.NoSuchKey as e:
        return {'found': False, 'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}
