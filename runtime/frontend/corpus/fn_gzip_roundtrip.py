# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Compress a payload, store it with Content-Encoding gzip, read it back and decompress."""
import gzip
import os

import boto3

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {}
EVENT = {'lines': 500}


def handler(event, context):
    payload = ''.join(f'line {i}\n' for i in range(event['lines'])).encode()
    s3.put_object(Bucket=BUCKET, Key='corpus/gz/data.txt.gz', Body=gzip.compress(payload, mtime=0),
                  ContentEncoding='gzip', ContentType='text/plain')
    got = s3.get_object(Bucket=BUCKET, Key='corpus/gz/data.txt.gz')
    return {'encoding': got['ContentEncoding'], 'same': gzip.decompress(got['Body'].read()) == payload}
