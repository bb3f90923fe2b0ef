# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Cleanup job: delete everything under a prefix with delete_objects, in pages."""
import os

import boto3

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {f'corpus/tmp/{i}': b't' for i in range(7)}
EVENT = {'prefix': 'corpus/tmp/'}


def handler(event, context):
    deleted = 0
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=event['prefix']):
        keys = [{'Key': o['Key']} for o in page.get('Contents', [])]
        if keys:
            deleted += len(s3.delete_objects(Bucket=BUCKET, Delete={'Objects': keys})['Deleted'])
    return {'deleted': deleted, 'left': s3.list_objects_v2(Bucket=BUCKET, Prefix=event['prefix'])['KeyCount']}
