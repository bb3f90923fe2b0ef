# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Inventory: page through a prefix with the list_objects_v2 paginator and sum sizes."""
import os

import boto3

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {f'corpus/logs/2026-12-{d:02d}.log': b'x' * (100 * d) for d in range(1, 13)}
EVENT = {'prefix': 'corpus/logs/'}


def handler(event, context):
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=event['prefix'],
                                                         PaginationConfig={'PageSize': 5})
    keys, total, count = [], 0, 0
    for page in pages:
        count += 1
        for item in page.get('Contents', []):
            keys.append(item['Key'])
            total += item['Size']
    return {'pages': count, 'objects': len(keys), 'bytes': total, 'last': keys[-1]}
