# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Browser upload URL: an API handler hands out a presigned PUT whose content type and metadata are signed, so the
browser must upload exactly that kind of file, tagged with the user who asked."""
import os
import urllib.parse

import boto3
from botocore.config import Config

s3 = boto3.client('s3', config=Config(signature_version='s3v4'))
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {}
EVENT = {'user': 'u-17', 'file': 'avatar.png', 'type': 'image/png'}


def handler(event, context):
    key = f"corpus/uploads/{event['user']}/{event['file']}"
    url = s3.generate_presigned_url('put_object', ExpiresIn=600, Params={
        'Bucket': BUCKET, 'Key': key, 'ContentType': event['type'], 'Metadata': {'user': event['user']}})
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    # The signature and date differ per call; the signed headers are what the browser must send.
    return {'key': key, 'signed_headers': query['X-Amz-SignedHeaders'], 'params': sorted(query),
            'headers_to_send': {'Content-Type': event['type'], 'x-amz-meta-user': event['user']}}
