# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in S3 client against a fake channel transport: type conversion, what goes on the wire, error mapping, validation, calls it does not serve."""

import os
import pickle
import subprocess
import sys
import time
import unittest
from datetime import datetime, timezone

from frontend_case import FRONTEND, FrontendTestCase
import boto3
from botocore.exceptions import ClientError, NexusUnsupportedError, ParamValidationError


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
        self.assertEqual(contents[0]['LastModified'].utcoffset().total_seconds(), 0)
        # As botocore's dateutil reads an XML timestamp's "Z": tzlocal() where the local zone is named UTC.
        self.assertEqual(repr(contents[0]['LastModified'].tzinfo), 'tzlocal()' if 'UTC' in time.tzname else 'tzutc()')

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


class MissingModuleTests(unittest.TestCase):
    def test_a_module_the_stand_in_lacks_says_why_and_what_to_do(self):
        with self.assertRaisesRegex(ModuleNotFoundError, "No module named 'botocore.stub': in nexus mode .* "
                                    'Set "io: baseline"') as caught:
            import botocore.stub  # noqa: F401
        self.assertEqual(caught.exception.name, 'botocore.stub')
        # What the stand-in has still imports, and other packages keep Python's own message.
        import botocore.response  # noqa: F401
        with self.assertRaisesRegex(ModuleNotFoundError, "^No module named 'nexus_no_such_module'$"):
            import nexus_no_such_module  # noqa: F401


class UnsignedConfigTests(FrontendTestCase):
    def test_an_unsigned_client_is_served_as_any_other(self):
        # A handler written for a public bucket: `from botocore import UNSIGNED` imports, and the backend signs its
        # calls within the function's grants (the sandbox signs nothing either way).
        from botocore import UNSIGNED
        from botocore.config import Config
        s3 = boto3.client('s3', config=Config(signature_version=UNSIGNED))
        self.transport.put('bucket', 'public.txt', b'open data')
        self.assertEqual(s3.get_object(Bucket='bucket', Key='public.txt')['Body'].read(), b'open data')
        self.assertIs(s3.meta.config.signature_version, UNSIGNED)


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


if __name__ == '__main__':
    unittest.main()
