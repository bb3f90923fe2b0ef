# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The resource API: Bucket.objects.filter, Object.get/put, lazily loaded attributes."""
import os

import boto3

s3 = boto3.resource('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {f'corpus/res/{n}.txt': f'item {n}'.encode() for n in ('a', 'b', 'c')}
EVENT = {}


def handler(event, context):
    bucket = s3.Bucket(BUCKET)
    names = [o.key for o in bucket.objects.filter(Prefix='corpus/res/')]
    obj = s3.Object(BUCKET, 'corpus/res/combined.txt')
    obj.put(Body=b'\n'.join(s3.Object(BUCKET, k).get()['Body'].read() for k in names), ContentType='text/plain')
    return {'names': names, 'combined_length': obj.content_length, 'type': obj.content_type}
