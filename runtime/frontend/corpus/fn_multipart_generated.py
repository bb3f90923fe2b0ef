# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Generated report uploaded with upload_fileobj (multipart above the threshold), then checked."""
import io
import os

import boto3
from boto3.s3.transfer import TransferConfig

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {}
EVENT = {'mib': 12}


def handler(event, context):
    data = bytes(i % 251 for i in range(event['mib'] << 20))
    config = TransferConfig(multipart_threshold=5 << 20, multipart_chunksize=5 << 20)
    s3.upload_fileobj(io.BytesIO(data), BUCKET, 'corpus/reports/big.bin', Config=config,
                      ExtraArgs={'ContentType': 'application/octet-stream', 'Metadata': {'rows': '12'}})
    head = s3.head_object(Bucket=BUCKET, Key='corpus/reports/big.bin')
    return {'etag_parts': head['ETag'].split('-')[-1], 'size': head['ContentLength'], 'metadata': head['Metadata']}
