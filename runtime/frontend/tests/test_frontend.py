# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Unit tests of the stand-in boto3/botocore against a fake channel transport.

Run: cd runtime/frontend && /usr/bin/python3 -m unittest discover -s tests -t .
"""

import io
import os
import pickle
import subprocess
import sys
import tempfile
import unittest
from datetime import datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
FRONTEND = os.path.dirname(HERE)
sys.path.insert(0, FRONTEND)
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from boto3.exceptions import S3UploadFailedError  # noqa: E402
from botocore.exceptions import (  # noqa: E402
    ClientError, IncompleteReadError, NexusUnsupportedError, ParamValidationError)
from fake_transport import FakeTransport  # noqa: E402

# The stand-in must come from runtime/frontend, never from Debian's real packages.
assert boto3.__file__.startswith(FRONTEND), boto3.__file__


def _b64_sha256(data):
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha256(data).digest()).decode('ascii')


class FrontendTestCase(unittest.TestCase):
    def setUp(self):
        self.transport = FakeTransport(buckets=('bucket', 'other'))
        botocore.client._set_transport(self.transport)
        self.s3 = boto3.client('s3')

    def tearDown(self):
        botocore.client._set_transport(None)


class TypeConversionTests(FrontendTestCase):
    def test_get_object_fields_have_botocore_types(self):
        self.transport.put('bucket', 'k', b'hello', 'text/plain', {'a': 'b'})
        response = self.s3.get_object(Bucket='bucket', Key='k')
        self.assertEqual(response['ContentLength'], 5)
        self.assertEqual(response['ContentType'], 'text/plain')
        self.assertEqual(response['Metadata'], {'a': 'b'})
        self.assertTrue(response['ETag'].startswith('"'))
        modified = response['LastModified']
        self.assertIsInstance(modified, datetime)
        self.assertEqual(modified.utcoffset().total_seconds(), 0)
        self.assertEqual(repr(modified.tzinfo), 'tzutc()')
        # HTTP-date headers have whole seconds, so botocore's value has no fraction.
        self.assertEqual(modified.microsecond, 0)
        self.assertEqual(response['Body'].read(), b'hello')
        meta = response['ResponseMetadata']
        self.assertEqual(meta['HTTPStatusCode'], 200)
        self.assertEqual(meta['RetryAttempts'], 0)
        self.assertEqual(meta['HTTPHeaders']['content-length'], '5')
        self.assertEqual(meta['HTTPHeaders']['x-amz-meta-a'], 'b')

    def test_listing_keeps_millisecond_timestamps_and_compares_with_aware_datetimes(self):
        self.transport.put('bucket', 'k', b'x')
        contents = self.s3.list_objects_v2(Bucket='bucket')['Contents']
        self.assertEqual(contents[0]['LastModified'].microsecond, 123000)
        self.assertLess(contents[0]['LastModified'], datetime.now(timezone.utc))
        self.assertEqual(contents[0]['LastModified'].tzinfo, timezone.utc)

    def test_copy_object_result_timestamp(self):
        self.transport.put('bucket', 'src', b'data')
        result = self.s3.copy_object(Bucket='bucket', Key='dst', CopySource={'Bucket': 'bucket', 'Key': 'src'})
        self.assertIsInstance(result['CopyObjectResult']['LastModified'], datetime)
        self.assertEqual(self.transport.calls[-1][1]['CopySource'], {'Bucket': 'bucket', 'Key': 'src'})

    def test_put_object_encodes_str_body_as_utf8(self):
        self.s3.put_object(Bucket='bucket', Key='k', Body='héllo')
        self.assertEqual(self.transport.buckets['bucket']['k']['data'], 'héllo'.encode())

    def test_range_get(self):
        self.transport.put('bucket', 'k', b'0123456789')
        response = self.s3.get_object(Bucket='bucket', Key='k', Range='bytes=2-4')
        self.assertEqual(response['ResponseMetadata']['HTTPStatusCode'], 206)
        self.assertEqual(response['ContentRange'], 'bytes 2-4/10')
        self.assertEqual(response['Body'].read(), b'234')

    def test_delete_returns_204(self):
        self.transport.put('bucket', 'k', b'x')
        response = self.s3.delete_object(Bucket='bucket', Key='k')
        self.assertEqual(response['ResponseMetadata']['HTTPStatusCode'], 204)

    def test_ignored_params_do_not_reach_the_wire(self):
        self.transport.put('bucket', 'k', b'x')
        self.s3.get_object(Bucket='bucket', Key='k', RequestPayer='requester')
        self.assertEqual(self.transport.calls[-1], ('GetObject', {'Bucket': 'bucket', 'Key': 'k'}))

    def test_checksums_are_shown_only_to_a_call_in_checksum_mode(self):
        # The backend passes on whatever checksums the store sent; boto3 shows them only when asked.
        self.transport.put('bucket', 'k', b'x')
        self.transport.checksums['k'] = {'ChecksumCRC32': 'jNRCzw=='}
        for method in (self.s3.get_object, self.s3.head_object):
            asked = method(Bucket='bucket', Key='k', ChecksumMode='ENABLED')
            self.assertEqual(self.transport.calls[-1][1].get('ChecksumMode'), 'ENABLED')
            self.assertEqual(asked['ChecksumCRC32'], 'jNRCzw==')
            self.assertNotIn('ChecksumCRC32', method(Bucket='bucket', Key='k'))


class WireParameterTests(FrontendTestCase):
    def test_timestamps_travel_as_iso_utc(self):
        self.transport.put('bucket', 'k', b'x')
        self.s3.get_object(Bucket='bucket', Key='k', IfModifiedSince=datetime(2020, 1, 2, 3, 4, 5),
                           IfUnmodifiedSince=1577934245)
        wire = self.transport.calls[-1][1]
        self.assertEqual(wire['IfModifiedSince'], '2020-01-02T03:04:05+00:00')  # naive is UTC, as botocore reads it
        self.assertEqual(wire['IfUnmodifiedSince'], '2020-01-02T03:04:05+00:00')

    def test_put_headers_and_tags_are_forwarded(self):
        self.s3.put_object(Bucket='bucket', Key='k', Body=b'x', CacheControl='no-cache', Tagging='a=1',
                           StorageClass='STANDARD_IA', ContentMD5='x', ExpectedBucketOwner='1')
        wire = self.transport.calls[-1][1]
        self.assertEqual((wire['CacheControl'], wire['Tagging'], wire['StorageClass'], wire['ContentMD5']),
                         ('no-cache', 'a=1', 'STANDARD_IA', 'x'))
        self.assertNotIn('ExpectedBucketOwner', wire)

    def test_a_parameter_the_channel_does_not_carry_leaves_the_fast_path(self):
        # The generic path (tests/test_generic.py) sends it; this transport serves only fast-path operations.
        with self.assertRaises(AttributeError) as caught:
            self.s3.put_object(Bucket='bucket', Key='k', Body=b'x', SSEKMSKeyId='key')
        self.assertIn('_ServiceRequest', str(caught.exception))
        self.assertNotIn('PutObject', [op for op, _ in self.transport.calls])

    def test_common_imports(self):
        from botocore.client import Config
        from botocore.config import Config as ConfigClass
        from boto3.dynamodb.conditions import Attr, Key
        self.assertIs(Config, ConfigClass)
        condition = Key('pk').eq('a') & ~Attr('n').exists()
        self.assertEqual(type(condition).__name__, 'And')
        self.assertEqual(condition.get_expression()['operator'], 'AND')

    def test_endpoint_and_credentials_are_said_once(self):
        script = ('import boto3; boto3.client("s3", endpoint_url="http://x:1", aws_access_key_id="a", '
                  'aws_secret_access_key="b"); boto3.client("s3", endpoint_url="http://y:2"); boto3.client("s3")')
        done = subprocess.run([sys.executable, '-c', script], cwd=FRONTEND, capture_output=True, text=True,
                              env=dict(os.environ, PYTHONPATH=FRONTEND), check=True)
        self.assertEqual(done.stderr.count('nexus: an S3 client was created with'), 1, done.stderr)
        self.assertIn("endpoint_url='http://x:1' and explicit credentials", done.stderr)
        self.assertIn("node, which uses its own storage endpoint and credentials", done.stderr)


class StreamingBodyTests(FrontendTestCase):
    def setUp(self):
        super().setUp()
        self.transport.put('bucket', 'lines', b'one\ntwo\r\nthree')

    def body(self):
        return self.s3.get_object(Bucket='bucket', Key='lines')['Body']

    def test_read_amounts_and_end(self):
        body = self.body()
        self.assertEqual(body.read(3), b'one')
        self.assertEqual(body.read(), b'\ntwo\r\nthree')
        self.assertEqual(body.read(5), b'')

    def test_iter_lines_and_keepends(self):
        self.assertEqual(list(self.body().iter_lines(chunk_size=4)), [b'one', b'two', b'three'])
        self.assertEqual(list(self.body().iter_lines(keepends=True)), [b'one\n', b'two\r\n', b'three'])

    def test_iter_chunks_and_iteration(self):
        self.assertEqual(list(self.body().iter_chunks(chunk_size=5)), [b'one\nt', b'wo\r\nt', b'hree'])
        self.assertEqual(b''.join(self.body()), b'one\ntwo\r\nthree')

    def test_context_manager_returns_raw_stream_and_closes(self):
        body = self.body()
        with body as raw:
            self.assertEqual(raw.read(), b'one\ntwo\r\nthree')
        self.assertTrue(self.transport.bodies[-1].closed_by_client)

    def test_read_amount_spans_chunk_boundaries(self):
        from botocore.response import StreamingBody

        class Chunked:
            """A raw stream that, like the channel's, returns at most 3 bytes per read."""

            def __init__(self, data):
                self._data = io.BytesIO(data)

            def read(self, n=-1):
                return self._data.read(3 if n is None or n < 0 else min(n, 3))

        body = StreamingBody(Chunked(b'0123456789'), 10)
        self.assertEqual(body.read(7), b'0123456')
        self.assertEqual(body.read(7), b'789')
        self.assertEqual(body.read(7), b'')

    def test_short_body_raises_incomplete_read(self):
        from botocore.response import StreamingBody
        body = StreamingBody(io.BytesIO(b'abc'), 5)
        with self.assertRaises(IncompleteReadError) as caught:
            body.read()
        self.assertEqual(str(caught.exception), '3 read, but total bytes expected is 5.')


class ErrorMappingTests(FrontendTestCase):
    def test_no_such_key_is_modeled_subclass(self):
        with self.assertRaises(self.s3.exceptions.NoSuchKey) as caught:
            self.s3.get_object(Bucket='bucket', Key='missing')
        error = caught.exception
        self.assertIsInstance(error, ClientError)
        self.assertEqual(type(error).__name__, 'NoSuchKey')
        self.assertEqual(str(error), 'An error occurred (NoSuchKey) when calling the GetObject operation: '
                                     'The specified key does not exist.')
        self.assertEqual(error.operation_name, 'GetObject')
        self.assertEqual(error.response['Error']['Code'], 'NoSuchKey')
        self.assertEqual(error.response['ResponseMetadata']['HTTPStatusCode'], 404)

    def test_modeled_classes_are_shared_between_clients(self):
        other = boto3.client('s3')
        with self.assertRaises(other.exceptions.NoSuchBucket):
            self.s3.list_objects_v2(Bucket='nobucket')

    def test_head_errors_carry_only_the_status(self):
        with self.assertRaises(ClientError) as caught:
            self.s3.head_object(Bucket='bucket', Key='missing')
        self.assertIs(type(caught.exception), ClientError)
        self.assertEqual(caught.exception.response['Error'], {'Code': '404', 'Message': 'Not Found'})
        self.assertEqual(str(caught.exception),
                         'An error occurred (404) when calling the HeadObject operation: Not Found')

    def test_conditional_get_not_modified_and_precondition(self):
        self.transport.put('bucket', 'k', b'x')
        etag = self.s3.head_object(Bucket='bucket', Key='k')['ETag']
        with self.assertRaises(ClientError) as caught:
            self.s3.get_object(Bucket='bucket', Key='k', IfNoneMatch=etag)
        self.assertEqual(caught.exception.response['Error'], {'Code': '304', 'Message': 'Not Modified'})
        with self.assertRaises(ClientError) as caught:
            self.s3.get_object(Bucket='bucket', Key='k', IfMatch='"nope"')
        self.assertEqual(caught.exception.response['Error']['Code'], 'PreconditionFailed')
        with self.assertRaises(ClientError) as caught:
            self.s3.head_object(Bucket='bucket', Key='k', IfMatch='"nope"')
        self.assertEqual(caught.exception.response['Error'], {'Code': '412', 'Message': 'Precondition Failed'})

    def test_server_errors_report_botocore_retries(self):
        from botocore.config import Config
        from fake_transport import FakeResponse
        self.transport._GetObject = lambda params, body: FakeResponse(
            500, {'Error': {'Code': 'InternalError', 'Message': 'We encountered an internal error. Please try again.'}})
        self.transport._HeadObject = lambda params, body: FakeResponse(503, {})
        cases = [(None, 4), (Config(retries={'max_attempts': 1}), 1), (Config(retries={'total_max_attempts': 3}), 2),
                 (Config(retries={'mode': 'standard'}), 2)]
        for config, retries in cases:
            s3 = boto3.client('s3', config=config)
            with self.assertRaises(ClientError) as caught:
                s3.get_object(Bucket='bucket', Key='k')
            self.assertEqual(str(caught.exception), 'An error occurred (InternalError) when calling the GetObject '
                             f'operation (reached max retries: {retries}): We encountered an internal error. '
                             'Please try again.')
            self.assertEqual(caught.exception.response['ResponseMetadata']['RetryAttempts'], retries)
        with self.assertRaises(ClientError) as caught:
            self.s3.head_object(Bucket='bucket', Key='k')
        self.assertEqual(str(caught.exception), 'An error occurred (503) when calling the HeadObject operation '
                         '(reached max retries: 4): Service Unavailable')

    def test_channel_failures_surface_as_botocore_connection_errors(self):
        import types
        from botocore.exceptions import ConnectionClosedError, ResponseStreamingError
        channel = types.ModuleType('nexus_channel')
        channel.ChannelError = type('ChannelError', (Exception,), {})
        sys.modules['nexus_channel'] = channel
        try:
            def broken(*args):
                raise channel.ChannelError('host closed the channel')
            self.transport._HeadObject = broken
            with self.assertRaises(ConnectionClosedError) as caught:
                self.s3.head_object(Bucket='bucket', Key='k')
            self.assertIn('host closed the channel', str(caught.exception))

            self.transport.put('bucket', 'k', b'abc')
            body = self.s3.get_object(Bucket='bucket', Key='k')['Body']
            body._raw_stream.read = broken
            with self.assertRaises(ResponseStreamingError):
                body.read()
        finally:
            del sys.modules['nexus_channel']

    def test_client_error_pickles_as_base_class(self):
        with self.assertRaises(ClientError) as caught:
            self.s3.get_object(Bucket='bucket', Key='missing')
        copy = pickle.loads(pickle.dumps(caught.exception))
        self.assertIs(type(copy), ClientError)
        self.assertEqual(str(copy), str(caught.exception))


class ValidationTests(FrontendTestCase):
    def assert_report(self, expected, **kwargs):
        with self.assertRaises(ParamValidationError) as caught:
            self.s3.get_object(**kwargs)
        self.assertEqual(str(caught.exception), 'Parameter validation failed:\n' + expected)
        self.assertEqual(self.transport.calls, [])

    def test_missing_required(self):
        self.assert_report('Missing required parameter in input: "Key"', Bucket='bucket')

    def test_invalid_type(self):
        self.assert_report("Invalid type for parameter Key, value: 5, type: <class 'int'>, valid types: "
                           "<class 'str'>", Bucket='bucket', Key=5)

    def test_errors_are_collected_in_botocore_order(self):
        with self.assertRaises(ParamValidationError) as caught:
            self.s3.put_object(Bucket='bucket', Body=3, Metadata=['a'])
        self.assertEqual(str(caught.exception).splitlines()[1:], [
            'Missing required parameter in input: "Key"',
            "Invalid type for parameter Body, value: 3, type: <class 'int'>, valid types: <class 'bytes'>, "
            "<class 'bytearray'>, file-like object",
            "Invalid type for parameter Metadata, value: ['a'], type: <class 'list'>, valid types: <class 'dict'>",
        ])

    def test_metadata_checked_for_ascii_before_validation(self):
        with self.assertRaises(AttributeError):
            self.s3.put_object(Bucket='bucket', Key='k', Metadata={'a': 1})
        with self.assertRaises(ParamValidationError) as caught:
            self.s3.put_object(Bucket='bucket', Key='k', Metadata={'a': 'é'})
        self.assertIn('Non ascii characters found in S3 metadata for key "a", value: "é"', str(caught.exception))

    def test_bucket_name(self):
        with self.assertRaises(ParamValidationError) as caught:
            self.s3.get_object(Bucket='bad/name', Key='k')
        self.assertIn('Invalid bucket name "bad/name": Bucket name must match the regex', str(caught.exception))

    def test_delete_objects_nested(self):
        with self.assertRaises(ParamValidationError) as caught:
            self.s3.delete_objects(Bucket='bucket', Delete={'Objects': [{'Kee': 'a'}]})
        self.assertEqual(str(caught.exception).splitlines()[1:], [
            'Missing required parameter in Delete.Objects[0]: "Key"',
            'Unknown parameter in Delete.Objects[0]: "Kee", must be one of: Key, VersionId',
        ])

    def test_copy_source_dict_without_key(self):
        with self.assertRaises(ParamValidationError) as caught:
            self.s3.copy_object(Bucket='bucket', Key='k', CopySource={'Bucket': 'bucket'})
        self.assertEqual(str(caught.exception), "Parameter validation failed:\nMissing required parameter: 'Key'")


class UnsupportedTests(FrontendTestCase):
    def test_access_point_arns_name_themselves(self):
        with self.assertRaises(NexusUnsupportedError) as caught:
            self.s3.get_object(Bucket='arn:aws:s3:us-east-1:123456789012:accesspoint/ap', Key='k')
        self.assertIn('access point ARN', str(caught.exception))

    def test_unknown_attribute_is_attribute_error(self):
        with self.assertRaises(AttributeError) as caught:
            self.s3.not_a_method
        self.assertEqual(str(caught.exception), "'S3' object has no attribute 'not_a_method'")


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


class TransferTests(FrontendTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory()
        self.payload = os.urandom(3 * 1024 * 1024 + 17)

    def tearDown(self):
        self.tmp.cleanup()
        super().tearDown()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_upload_file_streams_in_chunks_and_reports_progress(self):
        with open(self.path('in'), 'wb') as f:
            f.write(self.payload)
        seen = []
        self.s3.upload_file(self.path('in'), 'bucket', 'big', ExtraArgs={'ContentType': 'x/y'}, Callback=seen.append)
        stored = self.transport.buckets['bucket']['big']
        self.assertEqual(stored['data'], self.payload)
        self.assertEqual(stored['type'], 'x/y')
        self.assertGreater(len(self.transport.body_reads[-1]), 1)
        self.assertEqual(sum(seen), len(self.payload))

    def test_multipart_upload_with_checksum_algorithm_sends_each_parts_checksum(self):
        # Above the threshold: the ChecksumAlgorithm goes to the create and to every part, as s3transfer passes it; each
        # part's checksum is of that part alone, and the completion lists them (the store builds the composite).
        payload, chunk = os.urandom((11 << 20) + 17), 5 << 20  # s3transfer's smallest part size
        with open(self.path('in'), 'wb') as f:
            f.write(payload)
        seen = []
        config = boto3.s3.transfer.TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk)
        self.s3.upload_file(self.path('in'), 'bucket', 'mpu', ExtraArgs={'ChecksumAlgorithm': 'SHA256'},
                            Callback=seen.append, Config=config)
        self.assertEqual(self.transport.buckets['bucket']['mpu']['data'], payload)
        self.assertEqual(sum(seen), len(payload))
        ops = [op for op, _ in self.transport.calls]
        self.assertEqual(ops, ['CreateMultipartUpload'] + ['UploadPart'] * 3 + ['CompleteMultipartUpload'])
        self.assertEqual(self.transport.calls[0][1]['ChecksumAlgorithm'], 'SHA256')
        expected = [_b64_sha256(payload[i:i + chunk]) for i in range(0, len(payload), chunk)]
        self.assertEqual([params['ChecksumSHA256'] for op, params in self.transport.calls if op == 'UploadPart'],
                         expected)
        self.assertTrue(all('ChecksumAlgorithm' not in params for op, params in self.transport.calls[1:]))
        parts = self.transport.calls[-1][1]['MultipartUpload']['Parts']
        self.assertEqual([p['ChecksumSHA256'] for p in parts], expected)

    def test_upload_part_checksum_given_or_computed(self):
        upload = self.s3.create_multipart_upload(Bucket='bucket', Key='k', ChecksumAlgorithm='crc32')
        self.assertEqual(upload['ChecksumAlgorithm'], 'CRC32')
        computed = self.s3.upload_part(Bucket='bucket', Key='k', UploadId=upload['UploadId'], PartNumber=1,
                                       Body=io.BytesIO(b'123456789'), ChecksumAlgorithm='CRC32')
        self.assertEqual(computed['ChecksumCRC32'], 'y/Q5Jg==')  # CRC-32 check value 0xCBF43926
        given = self.s3.upload_part(Bucket='bucket', Key='k', UploadId=upload['UploadId'], PartNumber=2,
                                    Body=b'x', ChecksumCRC32='AAAAAA==')
        # A given value travels as it is: the store judges it (BadDigest).
        self.assertEqual(given['ChecksumCRC32'], 'AAAAAA==')

    def test_download_file_chunks_renames_and_reports_progress(self):
        self.transport.put('bucket', 'big', self.payload)
        seen = []
        self.s3.download_file('bucket', 'big', self.path('out'), Callback=seen.append)
        with open(self.path('out'), 'rb') as f:
            self.assertEqual(f.read(), self.payload)
        self.assertEqual(sum(seen), len(self.payload))
        self.assertGreater(self.transport.bodies[-1].reads, 2)
        self.assertEqual(os.listdir(self.tmp.name), ['out'])

    def test_download_missing_key_fails_like_s3transfer_head(self):
        with self.assertRaises(ClientError) as caught:
            self.s3.download_file('bucket', 'missing', self.path('out'))
        self.assertIs(type(caught.exception), ClientError)
        self.assertEqual(str(caught.exception),
                         'An error occurred (404) when calling the HeadObject operation: Not Found')
        self.assertEqual(os.listdir(self.tmp.name), [])

    def test_upload_client_error_becomes_s3_upload_failed(self):
        with open(self.path('in'), 'wb') as f:
            f.write(b'abc')
        with self.assertRaises(S3UploadFailedError) as caught:
            self.s3.upload_file(self.path('in'), 'nobucket', 'k')
        self.assertEqual(str(caught.exception), f"Failed to upload {self.path('in')} to nobucket/k: An error "
                         "occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket "
                         "does not exist")

    def test_fileobj_round_trip_and_argument_checks(self):
        self.s3.upload_fileobj(io.BytesIO(self.payload), 'bucket', 'obj')
        out = io.BytesIO()
        self.s3.download_fileobj('bucket', 'obj', out)
        self.assertEqual(out.getvalue(), self.payload)
        with self.assertRaises(ValueError) as caught:
            self.s3.upload_fileobj(b'bytes', 'bucket', 'obj')
        self.assertEqual(str(caught.exception), 'Fileobj must implement read')
        with self.assertRaises(ValueError) as caught:
            self.s3.upload_file(self.path('in'), 'bucket', 'k', ExtraArgs={'Bogus': 1})
        self.assertTrue(str(caught.exception).startswith("Invalid extra_args key 'Bogus', must be one of: ACL, "))
        with self.assertRaises(ValueError):
            self.s3.download_file('bucket', 'obj', 42)

    def test_managed_copy_heads_source_then_copies(self):
        self.transport.put('bucket', 'src', b'12345')
        seen = []
        self.s3.copy({'Bucket': 'bucket', 'Key': 'src'}, 'other', 'dst', Callback=seen.append)
        self.assertEqual([op for op, _ in self.transport.calls], ['HeadObject', 'CopyObject'])
        self.assertEqual(self.transport.buckets['other']['dst']['data'], b'12345')
        self.assertEqual(seen, [5])


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


class FootprintTests(unittest.TestCase):
    def test_no_network_stack_is_loaded(self):
        code = ('import sys, boto3; c = boto3.client("s3"); r = boto3.resource("s3"); '
                'bad = [m for m in ("socket", "ssl", "http.client", "urllib3", "email", "threading", '
                '"dateutil", "jmespath", "requests") if m in sys.modules]; '
                'print(",".join(bad)); import botocore; print(botocore.__file__)')
        out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=FRONTEND))
        bad, origin = out.stdout.splitlines()
        self.assertEqual(bad, '')
        self.assertTrue(origin.startswith(FRONTEND))


if __name__ == '__main__':
    unittest.main()
