# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Presigned-URL handout: an API handler returns a download URL and an upload URL for a client outside."""
import os
import urllib.parse

import boto3
from botocore.config import Config

# SigV4 URLs, as the public examples configure them (botocore 1.29's default for S3 presigning is the older SigV2).
s3 = boto3.client('s3', config=Config(signature_version='s3v4'))
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {'corpus/share/report.pdf': b'%PDF-1.4 not really\n'}
EVENT = {'file': 'report.pdf'}


def handler(event, context):
    key = 'corpus/share/' + event['file']
    urls = {'download': s3.generate_presigned_url('get_object', Params={'Bucket': BUCKET, 'Key': key}, ExpiresIn=300),
            'upload': s3.generate_presigned_url('put_object', Params={'Bucket': BUCKET, 'Key': key + '.v2'}, ExpiresIn=300)}
    out = {}
    for name, url in urls.items():
        parts = urllib.parse.urlsplit(url)
        query = urllib.parse.parse_qs(parts.query)
        # The signature and date differ per call; the shape of the URL is what a client relies on.
        out[name] = {'path': parts.path, 'params': sorted(query), 'expires': query['X-Amz-Expires']}
    return out
