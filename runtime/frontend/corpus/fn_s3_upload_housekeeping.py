# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Upload housekeeping (a scheduled function): with the resource API, abort the multipart uploads left under a prefix,
check who owns what landed, and report the objects' versions, as the cleanup examples do."""
import os

import boto3

s3 = boto3.resource('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {'corpus/landing/a.csv': b'id,v\n1,2\n', 'corpus/landing/b.csv': b'id,v\n3,4\n'}
EVENT = {'prefix': 'corpus/landing/'}


def handler(event, context):
    bucket = s3.Bucket(BUCKET)
    # An upload a crashed run left behind, as the function would find it.
    bucket.Object(event['prefix'] + 'c.csv').initiate_multipart_upload(ContentType='text/csv')
    aborted = []
    for upload in bucket.multipart_uploads.filter(Prefix=event['prefix']):
        aborted.append(upload.object_key)
        upload.abort()
    left = [u.object_key for u in bucket.multipart_uploads.filter(Prefix=event['prefix'])]
    objects = sorted(bucket.objects.filter(Prefix=event['prefix']), key=lambda o: o.key)
    owners = {o.key: o.Acl().owner['ID'] for o in objects}
    versions = [(v.object_key, v.id, v.is_latest) for v in bucket.object_versions.filter(Prefix=event['prefix'])]
    return {'aborted': aborted, 'left': left, 'owners': owners, 'versions': versions,
            'sizes': {o.key: o.size for o in objects}}
