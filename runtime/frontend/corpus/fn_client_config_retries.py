# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A client built with botocore Config (retries, timeouts) that treats a missing object as a normal outcome."""
import os

import boto3
from botocore.client import Config
from botocore.exceptions import ClientError

s3 = boto3.client('s3', config=Config(retries={'max_attempts': 3, 'mode': 'standard'}, connect_timeout=5,
                                      read_timeout=10, signature_version='s3v4'))
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {'corpus/cfg/present': b'1'}
EVENT = {'keys': ['corpus/cfg/present', 'corpus/cfg/absent']}


def handler(event, context):
    out = {}
    for key in event['keys']:
        try:
            out[key] = s3.head_object(Bucket=BUCKET, Key=key)['ContentLength']
        except ClientError as e:
            out[key] = e.response['Error']['Code']
    return out
