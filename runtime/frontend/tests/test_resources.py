# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's boto3 resources."""

import json
import os
import subprocess
import unittest
from datetime import datetime

from frontend_case import FRONTEND, FrontendTestCase
import boto3
from boto3.exceptions import ResourceLoadException
from botocore.exceptions import ClientError

# Lists what a handler can reach on boto3.resource('s3'): the service resource's members, and for every resource it
# builds, its repr, members (actions, attributes, sub-resources, collections, waiters) and sub-resources.
_SURFACE = """
import json, boto3
r = boto3.resource('s3', region_name='us-east-1', aws_access_key_id='a', aws_secret_access_key='b')
ids = {'Object': 2, 'ObjectSummary': 2, 'ObjectAcl': 2, 'ObjectVersion': 3, 'MultipartUpload': 3,
       'MultipartUploadPart': 4}
out = {'service': sorted(n for n in dir(r) if not n.startswith('_'))}
for name in r.get_available_subresources():
    obj = getattr(r, name)(*['x'] * ids.get(name, 1))
    out[name] = [repr(obj), sorted(n for n in dir(obj) if not n.startswith('_') and n != 'meta'),
                 obj.get_available_subresources()]
print(json.dumps(out, sort_keys=True))
"""
_DEBIAN_BOTO3 = '/usr/lib/python3/dist-packages/boto3/data/s3/2006-03-01/resources-1.json'


class ResourceTests(FrontendTestCase):
    def setUp(self):
        super().setUp()
        self.resource = boto3.resource('s3')
        for key in ('a/1', 'a/2', 'b/1'):
            self.transport.put('bucket', key, key.encode())

    def test_object_loads_lazily_through_head(self):
        obj = self.resource.Object('bucket', 'a/1')
        self.assertEqual(self.transport.calls, [])
        self.assertEqual(obj.content_length, 3)
        self.assertTrue(obj.e_tag.startswith('"'))
        self.assertIsInstance(obj.last_modified, datetime)
        self.assertIsNone(obj.version_id)
        self.assertEqual([op for op, _ in self.transport.calls], ['HeadObject'])

    def test_object_actions(self):
        obj = self.resource.Bucket('bucket').Object('new')
        obj.put(Body=b'payload')
        self.assertEqual(obj.get()['Body'].read(), b'payload')
        obj.delete()
        with self.assertRaises(ClientError) as caught:
            obj.load()
        self.assertEqual(caught.exception.response['Error']['Code'], '404')

    def test_identity(self):
        self.assertEqual(repr(self.resource.Object('bucket', 'k')), "s3.Object(bucket_name='bucket', key='k')")
        self.assertEqual(repr(self.resource.Bucket('bucket')), "s3.Bucket(name='bucket')")
        self.assertEqual(self.resource.Object('bucket', 'k'), self.resource.Object(bucket_name='bucket', key='k'))
        self.assertNotEqual(self.resource.Object('bucket', 'k'), self.resource.ObjectSummary('bucket', 'k'))
        with self.assertRaises(ValueError) as caught:
            self.resource.Object('bucket')
        self.assertEqual(str(caught.exception), 'Required parameter key not set')

    def test_collection_filter_limit_and_summaries(self):
        bucket = self.resource.Bucket('bucket')
        summaries = list(bucket.objects.filter(Prefix='a/'))
        self.assertEqual([s.key for s in summaries], ['a/1', 'a/2'])
        self.assertEqual(summaries[0].size, 3)
        self.assertEqual(summaries[0].bucket_name, 'bucket')
        self.assertEqual(summaries[0].Object(), self.resource.Object('bucket', 'a/1'))
        self.assertEqual(summaries[0].get()['Body'].read(), b'a/1')
        self.assertEqual([s.key for s in bucket.objects.all().limit(2)], ['a/1', 'a/2'])
        self.assertEqual([len(p) for p in bucket.objects.page_size(2).pages()], [2, 1])

    def test_collection_delete(self):
        responses = self.resource.Bucket('bucket').objects.filter(Prefix='a/').delete()
        self.assertEqual(responses[0]['Deleted'], [{'Key': 'a/1'}, {'Key': 'a/2'}])
        self.assertEqual(sorted(self.transport.buckets['bucket']), ['b/1'])

    def test_an_action_drops_what_the_resource_loaded(self):
        obj = self.resource.Object('bucket', 'a/1')
        self.assertEqual(obj.content_length, 3)
        obj.put(Body=b'longer')
        self.assertEqual(obj.content_length, 6)
        self.assertEqual([op for op, _ in self.transport.calls], ['HeadObject', 'PutObject', 'HeadObject'])

    def test_a_multipart_upload_through_resources(self):
        upload = self.resource.Object('bucket', 'big').initiate_multipart_upload(ContentType='text/plain')
        self.assertEqual(repr(upload), f"s3.MultipartUpload(bucket_name='bucket', object_key='big', id='{upload.id}')")
        part = upload.Part(1)
        answer = part.upload(Body=b'part one')
        self.assertEqual(part.multipart_upload_id, upload.id)
        obj = upload.complete(MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': answer['ETag']}]})
        self.assertEqual(obj, self.resource.Object('bucket', 'big'))
        self.assertEqual(obj.get()['Body'].read(), b'part one')
        calls = self.transport.calls
        self.assertEqual([op for op, _ in calls][:3], ['CreateMultipartUpload', 'UploadPart', 'CompleteMultipartUpload'])
        self.assertEqual((calls[1][1]['Bucket'], calls[1][1]['Key'], calls[1][1]['PartNumber']), ('bucket', 'big', 1))
        self.assertEqual(calls[2][1]['UploadId'], upload.id)

    def test_a_resource_without_a_load_model_cannot_load(self):
        upload = self.resource.MultipartUpload('bucket', 'big', 'id-1')
        self.assertFalse(hasattr(upload, 'load'))
        with self.assertRaisesRegex(ResourceLoadException, '^s3.MultipartUpload has no load method$'):
            upload.initiated
        self.assertEqual(self.transport.calls, [])

    @unittest.skipUnless(os.path.exists(_DEBIAN_BOTO3), "Debian's python3-boto3 (what baseline sandboxes run) is not "
                         'installed; scripts/setup installs it')
    def test_the_resource_surface_is_debians_boto3s(self):
        def surface(path):
            environment = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
            if path:
                environment['PYTHONPATH'] = path
            out = subprocess.run(['/usr/bin/python3', '-c', _SURFACE], capture_output=True, text=True, check=True,
                                 env=environment, cwd='/')
            return json.loads(out.stdout)
        real, stand_in = surface(None), surface(FRONTEND)
        self.assertIn('BucketVersioning', real)
        self.assertEqual(real, stand_in)


if __name__ == '__main__':
    unittest.main()
