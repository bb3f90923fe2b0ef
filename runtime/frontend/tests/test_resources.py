# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's boto3 resources."""

import unittest
from datetime import datetime

from frontend_case import FrontendTestCase
import boto3
from botocore.exceptions import ClientError


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


if __name__ == '__main__':
    unittest.main()
