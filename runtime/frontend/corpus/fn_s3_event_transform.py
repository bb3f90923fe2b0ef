# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""S3-triggered processing: read the object named by the event record, transform it, write the result beside it."""
import hashlib
import os
import urllib.parse

import boto3

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {'corpus/in/hello world.txt': b'hello from an s3 event\n' * 50}
EVENT = {'Records': [{'eventSource': 'aws:s3', 'eventName': 'ObjectCreated:Put',
                      's3': {'bucket': {'name': BUCKET}, 'object': {'key': 'corpus/in/hello+world.txt', 'size': 1150}}}]}


def handler(event, context):
    out = []
    for record in event['Records']:
        bucket = record['s3']['bucket']['name']
        key = urllib.parse.unquote_plus(record['s3']['object']['key'])
        body = s3.get_object(Bucket=bucket, Key=key)['Body'].read()
        result = body.upper()
        target = key.replace('corpus/in/', 'corpus/out/', 1)
        s3.put_object(Bucket=bucket, Key=target, Body=result, ContentType='text/plain',
                      Metadata={'source-sha256': hashlib.sha256(body).hexdigest()})
        head = s3.head_object(Bucket=bucket, Key=target)
        out.append({'key': target, 'size': head['ContentLength'], 'metadata': head['Metadata']})
    return out
