# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's waiters, sessions and paginators."""

import unittest

from frontend_case import FrontendTestCase
from botocore.exceptions import ParamValidationError


class WaiterAndSessionTests(FrontendTestCase):
    def test_object_exists_waiter(self):
        from botocore.exceptions import WaiterError
        self.transport.put('bucket', 'k', b'x')
        self.s3.get_waiter('object_exists').wait(Bucket='bucket', Key='k', WaiterConfig={'Delay': 0})
        with self.assertRaises(WaiterError) as caught:
            self.s3.get_waiter('object_exists').wait(Bucket='bucket', Key='nope',
                                                     WaiterConfig={'Delay': 0, 'MaxAttempts': 3})
        self.assertEqual(str(caught.exception), 'Waiter ObjectExists failed: Max attempts exceeded. Previously '
                                                'accepted state: Matched expected HTTP status code: 404')
        self.assertEqual(len([op for op, _ in self.transport.calls if op == 'HeadObject']), 4)
        self.s3.get_waiter('object_not_exists').wait(Bucket='bucket', Key='nope', WaiterConfig={'Delay': 0})
        # The bucket waiters are the real botocore's (generic path).
        self.assertEqual(type(self.s3.get_waiter('bucket_exists')).__name__, 'S3.Waiter.BucketExists')

    def test_botocore_session_creates_the_stand_in(self):
        import botocore.session
        client = botocore.session.get_session().create_client('s3', region_name='eu-west-1')
        self.assertEqual((type(client).__name__, client.meta.region_name), ('S3', 'eu-west-1'))
        # Other services: the real botocore's client (the generic path, tests/test_generic.py).
        self.assertEqual(type(botocore.session.get_session().create_client('sqs', region_name='eu-west-1')).__name__, 'SQS')


class PaginatorTests(FrontendTestCase):
    def setUp(self):
        super().setUp()
        for i in range(7):
            self.transport.put('bucket', f'k{i}', b'x' * i)
        self.transport.put('bucket', 'dir/a', b'')
        self.transport.put('bucket', 'dir/b', b'')

    def keys(self, pages):
        return [[c['Key'] for c in page.get('Contents', [])] for page in pages]

    def test_pages_follow_continuation_tokens(self):
        pages = self.s3.get_paginator('list_objects_v2').paginate(Bucket='bucket', Prefix='k',
                                                                  PaginationConfig={'PageSize': 3})
        self.assertEqual(self.keys(pages), [['k0', 'k1', 'k2'], ['k3', 'k4', 'k5'], ['k6']])
        self.assertEqual([params.get('MaxKeys') for op, params in self.transport.calls], [3, 3, 3])

    def test_max_items_truncates_and_resumes(self):
        paginator = self.s3.get_paginator('list_objects_v2')
        first = paginator.paginate(Bucket='bucket', Prefix='k', PaginationConfig={'PageSize': 3, 'MaxItems': 4})
        self.assertEqual(self.keys(first), [['k0', 'k1', 'k2'], ['k3']])
        token = first.resume_token
        self.assertIsNotNone(token)
        rest = paginator.paginate(Bucket='bucket', Prefix='k', PaginationConfig={'PageSize': 3,
                                                                                 'StartingToken': token})
        self.assertEqual(self.keys(rest), [['k4', 'k5'], ['k6']])

    def test_build_full_result_and_search(self):
        paginator = self.s3.get_paginator('list_objects_v2')
        full = paginator.paginate(Bucket='bucket', Delimiter='/', PaginationConfig={'PageSize': 2}).build_full_result()
        self.assertEqual([c['Key'] for c in full['Contents']], [f'k{i}' for i in range(7)])
        self.assertEqual(full['CommonPrefixes'], [{'Prefix': 'dir/'}])
        found = list(paginator.paginate(Bucket='bucket', Prefix='k').search('Contents[?Size > `4`].Key'))
        self.assertEqual(found, ['k5', 'k6'])

    def test_list_objects_v2_forwards_fetch_owner(self):
        self.s3.list_objects_v2(Bucket='bucket', FetchOwner=True)
        self.assertEqual(self.transport.calls[-1], ('ListObjectsV2', {'Bucket': 'bucket', 'FetchOwner': True}))

    def test_list_objects_v1_over_the_v2_wire(self):
        page = self.s3.list_objects(Bucket='bucket', Prefix='k', Marker='k1', MaxKeys=2)
        self.assertEqual(self.transport.calls[-1], ('ListObjectsV2', {'Bucket': 'bucket', 'Prefix': 'k',
                                                                      'StartAfter': 'k1', 'MaxKeys': 2,
                                                                      'FetchOwner': True}))
        self.assertEqual([c['Key'] for c in page['Contents']], ['k2', 'k3'])
        self.assertEqual((page['Marker'], page['NextMarker'], page['IsTruncated']), ('k1', 'k3', True))
        self.assertNotIn('KeyCount', page)
        pages = self.s3.get_paginator('list_objects').paginate(Bucket='bucket', Prefix='k',
                                                               PaginationConfig={'PageSize': 3})
        self.assertEqual(self.keys(pages), [['k0', 'k1', 'k2'], ['k3', 'k4', 'k5'], ['k6']])
        with self.assertRaises(ParamValidationError) as caught:
            self.s3.list_objects(Bucket='bucket', ContinuationToken='x')
        self.assertIn('Unknown parameter in input: "ContinuationToken", must be one of: Bucket, Delimiter, '
                      'EncodingType, Marker, MaxKeys, Prefix, RequestPayer, ExpectedBucketOwner', str(caught.exception))

    def test_unpageable(self):
        self.assertTrue(self.s3.can_paginate('list_objects_v2'))
        self.assertFalse(self.s3.can_paginate('get_object'))
        from botocore.exceptions import OperationNotPageableError
        with self.assertRaises(OperationNotPageableError):
            self.s3.get_paginator('get_object')


if __name__ == '__main__':
    unittest.main()
