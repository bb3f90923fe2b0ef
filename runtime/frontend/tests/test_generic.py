# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Unit tests of the generic path (botocore/_nexus_generic.py) with a fake channel: what goes on the wire, how answers parse."""

import base64
import hashlib
import io
import json
import os
import socket
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FRONTEND = os.path.dirname(HERE)
sys.path.insert(0, FRONTEND)
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from botocore.exceptions import ClientError, ParamValidationError, ReadTimeoutError  # noqa: E402


class _Response:
    def __init__(self, status, meta, body=b''):
        self.status, self.meta, self.body = status, meta, io.BytesIO(body)


class _Late(Exception):
    """The channel's timeout, as the fake raises it."""


class ServiceChannel:
    """Answers ServiceRequest with canned service responses; records what the sandbox sent."""

    def __init__(self):
        self.sent = []
        self.answers = []
        self.timeouts = []
        self.late = 0   # calls to answer with a timeout before the next answer

    def answer(self, status, body, headers=None, refused=None):
        if refused is not None:
            self.answers.append(_Response(status, {'Error': refused}))
        else:
            headers = dict(headers or {}, **{'x-amzn-requestid': 'REQ1', 'content-type': 'application/x-amz-json-1.0'})
            self.answers.append(_Response(status, {'Headers': headers}, json.dumps(body).encode()))

    def call(self, op, params, body=None, timeout=None):
        self.sent.append((op, params, body))
        self.timeouts.append(timeout)
        if self.late:
            self.late -= 1
            raise _Late()
        return self.answers.pop(0)


class GenericPathTests(unittest.TestCase):
    def setUp(self):
        self.channel = ServiceChannel()
        botocore.client._set_transport(self.channel)
        # The real botocore's client behind the stand-in's own DynamoDB client: the generic path's.
        self.ddb = boto3.client('dynamodb', region_name='us-east-1')._generic()
        # Nothing in the sandbox may open a connection, even through the real botocore.
        self._connect = socket.socket.connect
        socket.socket.connect = _no_network

    def tearDown(self):
        socket.socket.connect = self._connect
        botocore.client._set_transport(None)

    def test_request_goes_unsigned_over_one_channel_op(self):
        self.channel.answer(200, {'Item': {'pk': {'S': 'a'}}})
        result = self.ddb.get_item(TableName='orders', Key={'pk': {'S': 'a'}})
        self.assertEqual(result['Item'], {'pk': {'S': 'a'}})
        self.assertEqual(result['ResponseMetadata']['RequestId'], 'REQ1')
        op, wire, body = self.channel.sent[0]
        self.assertEqual(op, 'ServiceRequest')
        self.assertEqual((wire['Service'], wire['Operation'], wire['Method'], wire['Path']),
                         ('dynamodb', 'GetItem', 'POST', '/'))
        self.assertEqual(wire['Headers']['X-Amz-Target'], 'DynamoDB_20120810.GetItem')
        self.assertNotIn('Authorization', wire['Headers'])
        self.assertNotIn('X-Amz-Date', wire['Headers'])
        self.assertEqual(json.loads(body), {'TableName': 'orders', 'Key': {'pk': {'S': 'a'}}})

    def test_a_call_whose_endpoint_rule_names_an_auth_scheme_goes_unsigned_too(self):
        # STS's global endpoint rule names SigV4: botocore's own choose-signer handler would sign, with no credentials
        # here (NoCredentialsError), unless the generic path's unsigned choice comes first.
        sts = boto3.client('sts', region_name='us-east-1')._generic()
        self.channel.answers.append(_Response(200, {'Headers': {'x-amzn-requestid': 'REQ1'}},
                                              b'<GetSessionTokenResponse><GetSessionTokenResult><Credentials>'
                                              b'<AccessKeyId>AKID</AccessKeyId></Credentials></GetSessionTokenResult>'
                                              b'</GetSessionTokenResponse>'))
        self.assertEqual('AKID', sts.get_session_token()['Credentials']['AccessKeyId'])
        _, wire, _ = self.channel.sent[0]
        self.assertEqual(('sts', 'GetSessionToken'), (wire['Service'], wire['Operation']))
        self.assertNotIn('Authorization', wire['Headers'])

    def test_a_model_read_client_s_errors_are_its_classes_on_the_generic_path_too(self):
        # A service without an own client is read from its model; the real client behind it (paginators, waiters, ...)
        # raises the same modeled classes, so `except client.exceptions.X` catches errors of both paths.
        for made_first in ('stand-in', 'real'):
            with self.subTest(made_first=made_first):
                service = {'stand-in': 'rekognition', 'real': 'comprehend'}[made_first]
                if made_first == 'real':
                    boto3.client('athena', region_name='us-east-1')._generic()   # a real session exists already
                client = boto3.client(service, region_name='us-east-1')
                self.assertTrue(hasattr(type(client), 'MODEL'), type(client))
                code = {'rekognition': 'InvalidS3ObjectException', 'comprehend': 'ResourceNotFoundException'}[service]
                self.channel.answer(400, {'__type': code, 'message': 'no'})
                real = client._generic()
                operation = {'rekognition': 'detect_labels', 'comprehend': 'describe_entity_recognizer'}[service]
                params = {'rekognition': {'Image': {'S3Object': {'Bucket': 'photos', 'Name': 'n'}}},
                          'comprehend': {'EntityRecognizerArn': 'arn:aws:comprehend:us-east-1:1:entity-recognizer/r'}}[service]
                with self.assertRaises(getattr(client.exceptions, code)):
                    getattr(real, operation)(**params)

    def test_a_request_names_its_service_as_the_node_knows_it(self):
        # botocore's events name a service by its id ('sfn', 'eventbridge', 'iot-data-plane'); node.json and the grants
        # by botocore's name for it, which is what the channel request carries.
        for service, method, expected in (('stepfunctions', 'list_activities', 'stepfunctions'),
                                          ('events', 'list_rules', 'events'),
                                          ('iot-data', 'list_retained_messages', 'iot-data')):
            with self.subTest(service=service):
                self.channel.answer(200, {})
                getattr(boto3.client(service, region_name='us-east-1')._generic(), method)()
                self.assertEqual(expected, self.channel.sent[-1][1]['Service'])

    def test_service_errors_are_botocore_client_errors(self):
        self.channel.answer(400, {'__type': 'com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException',
                                  'message': 'The conditional request failed'})
        with self.assertRaises(self.ddb.exceptions.ConditionalCheckFailedException) as caught:
            self.ddb.put_item(TableName='orders', Item={'pk': {'S': 'a'}}, ConditionExpression='attribute_not_exists(pk)')
        # The stand-in's ClientError is the one the real botocore raises, so either except clause catches it.
        self.assertIsInstance(caught.exception, ClientError)
        self.assertEqual(str(caught.exception), 'An error occurred (ConditionalCheckFailedException) when calling '
                                                'the PutItem operation: The conditional request failed')

    def test_the_client_s_read_timeout_bounds_each_attempt_and_botocore_retries_a_late_answer(self):
        from unittest import mock
        from botocore.config import Config
        ddb = boto3.client('dynamodb', region_name='us-east-1',
                           config=Config(read_timeout=3, retries={'max_attempts': 2}))._generic()
        self.channel.late = 2
        self.channel.answer(200, {'Item': {'pk': {'S': 'a'}}})
        original = botocore.client.channel_timeouts
        botocore.client.channel_timeouts = lambda: (_Late,)
        try:
            with mock.patch('time.sleep'):
                answered = ddb.get_item(TableName='orders', Key={'pk': {'S': 'a'}})
                self.assertEqual(2, answered['ResponseMetadata']['RetryAttempts'])
                self.assertEqual([3, 3, 3], self.channel.timeouts)
                self.channel.late = 3
                with self.assertRaises(ReadTimeoutError) as raised:
                    ddb.get_item(TableName='orders', Key={'pk': {'S': 'a'}})
        finally:
            botocore.client.channel_timeouts = original
        self.assertEqual('Read timeout on endpoint URL: "https://dynamodb.us-east-1.amazonaws.com/"', str(raised.exception))
        self.assertEqual([3] * 6, self.channel.timeouts)

    def test_a_refusal_by_the_backend_is_a_client_error(self):
        self.channel.answer(403, None, refused={'Code': 'AccessDenied', 'Message': 'function f may not perform '
                                                'dynamodb:DeleteItem on resource table/orders'})
        with self.assertRaises(ClientError) as caught:
            self.ddb.delete_item(TableName='orders', Key={'pk': {'S': 'a'}})
        self.assertEqual(caught.exception.response['Error']['Code'], 'AccessDenied')
        self.assertEqual(caught.exception.operation_name, 'DeleteItem')

    def test_validation_runs_in_the_sandbox_and_sends_nothing(self):
        with self.assertRaises(ParamValidationError):
            self.ddb.get_item(Key={'pk': {'S': 'a'}})
        self.assertEqual(self.channel.sent, [])

    def test_resource_api_and_stand_in_conditions(self):
        from boto3.dynamodb.conditions import Key
        self.channel.answer(200, {'Items': [{'pk': {'S': 'a'}, 'n': {'N': '2'}}], 'Count': 1, 'ScannedCount': 1})
        items = boto3.resource('dynamodb', region_name='us-east-1').Table('orders').query(
            KeyConditionExpression=Key('pk').eq('a'))['Items']
        self.assertEqual(items, [{'pk': 'a', 'n': 2}])
        sent = json.loads(self.channel.sent[0][2])
        self.assertEqual(sent['KeyConditionExpression'], '#n0 = :v0')
        self.assertEqual(sent['ExpressionAttributeValues'], {':v0': {'S': 'a'}})

    def test_types_are_the_real_layers(self):
        from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
        self.assertEqual(TypeSerializer().serialize(Binary(b'x')), {'B': b'x'})
        self.assertEqual(TypeDeserializer().deserialize({'N': '1.5'}), __import__('decimal').Decimal('1.5'))
        self.channel.answer(200, {})
        boto3.resource('dynamodb', region_name='us-east-1').Table('orders').put_item(Item={'pk': 'a', 'b': Binary(b'\x00')})
        self.assertEqual(json.loads(self.channel.sent[0][2])['Item']['b'], {'B': 'AA=='})

    def test_an_unsigned_config_means_the_same_to_the_real_botocore(self):
        import copy
        from botocore import UNSIGNED
        from botocore._nexus_generic import real_module
        from botocore.config import Config
        self.assertIs(copy.deepcopy(UNSIGNED), UNSIGNED)
        ddb = boto3.client('dynamodb', region_name='us-east-1', config=Config(signature_version=UNSIGNED))
        self.channel.answer(200, {'Item': {'pk': {'S': 'a'}}})
        self.assertEqual(ddb.get_item(TableName='orders', Key={'pk': {'S': 'a'}})['Item'], {'pk': {'S': 'a'}})
        self.assertIs(real_module('botocore').UNSIGNED, UNSIGNED)
        self.assertIs(real_module('botocore.regions').UNSIGNED, UNSIGNED)
        self.assertNotIn('Authorization', self.channel.sent[0][1]['Headers'])

    def test_the_stand_in_stays_what_handlers_import(self):
        self.assertTrue(sys.modules['botocore'].__file__.startswith(FRONTEND))
        self.assertTrue(sys.modules['boto3'].__file__.startswith(FRONTEND))
        self.assertTrue(type(self.ddb).__module__ == 'botocore.client')

    def test_a_presigned_url_of_another_service_is_the_request_botocore_would_presign_signed_by_the_backend(self):
        self.channel.answers.append(_Response(200, {'Url': 'http://ddb/?signed'}))
        self.assertEqual(self.ddb.generate_presigned_url('list_tables', Params={'Limit': 5}, ExpiresIn=60),
                         'http://ddb/?signed')
        op, wire, body = self.channel.sent[0]
        self.assertEqual((op, wire['Operation'], wire['ExpiresIn'], body), ('GeneratePresignedUrl', 'ServiceRequest', 60, None))
        # As SigV4QueryAuth presigns it: the JSON body's members in the query; X-Amz-* left to the backend.
        self.assertEqual(wire['Request'], {'Service': 'dynamodb', 'Operation': 'ListTables', 'Method': 'POST', 'Path': '/?Limit=5',
                                           'Headers': {'X-Amz-Target': 'DynamoDB_20120810.ListTables',
                                                       'Content-Type': 'application/x-amz-json-1.0'}})
        self.assertNotIn('Region', wire)

    def test_a_presigned_url_refused_by_the_backend_is_a_client_error_not_an_unsigned_url(self):
        self.channel.answers.append(_Response(403, {'Error': {'Code': 'AccessDenied', 'Message': 'no grant'}}))
        with self.assertRaises(ClientError) as caught:
            self.ddb.generate_presigned_url('list_tables')
        self.assertEqual((caught.exception.operation_name, caught.exception.response['Error']['Code']),
                         ('GeneratePresignedUrl', 'AccessDenied'))

    def test_a_db_auth_token_is_signed_by_the_backend_on_both_paths(self):
        # The stand-in's RDS client, and the real one (a client with an event handler is the real botocore's).
        self.channel.answers += [_Response(200, {'Url': 'db:5432/?token'}), _Response(200, {'Url': 'db:5432/?token2'})]
        rds = boto3.client('rds', region_name='eu-west-1')
        self.assertEqual(rds.generate_db_auth_token('Db.Example.com', 5432, 'app'), 'db:5432/?token')
        self.assertEqual(rds._generic().generate_db_auth_token('Db.Example.com', '5432', 'app', Region='us-east-2'),
                         'db:5432/?token2')
        self.assertEqual([wire for _, wire, _ in self.channel.sent], [
            {'Operation': 'DbAuthToken', 'Hostname': 'Db.Example.com', 'Port': 5432, 'User': 'app', 'Region': 'eu-west-1'},
            {'Operation': 'DbAuthToken', 'Hostname': 'Db.Example.com', 'Port': 5432, 'User': 'app', 'Region': 'us-east-2'}])


class S3GenericPathTests(unittest.TestCase):
    """S3 calls the fast path does not serve: the real botocore's S3 client, its requests over ServiceRequest."""

    def setUp(self):
        self.channel = ServiceChannel()
        botocore.client._set_transport(self.channel)
        from botocore.config import Config
        self.s3 = boto3.client('s3', region_name='eu-west-1', endpoint_url='http://ignored:9000',
                               config=Config(retries={'max_attempts': 1}))
        self._connect = socket.socket.connect
        socket.socket.connect = _no_network

    def tearDown(self):
        socket.socket.connect = self._connect
        botocore.client._set_transport(None)

    def answer_xml(self, status, xml, headers=None):
        self.channel.answers.append(_Response(status, {'Headers': dict(headers or {}, **{
            'x-amz-request-id': 'S3REQ', 'content-type': 'application/xml'})}, xml.encode()))

    def test_an_operation_the_fast_path_lacks_goes_path_style_and_unsigned(self):
        self.answer_xml(200, '<?xml version="1.0"?><ListMultipartUploadsResult><Bucket>b</Bucket>'
                             '<Upload><Key>k 1</Key><UploadId>u1</UploadId></Upload></ListMultipartUploadsResult>')
        result = self.s3.list_multipart_uploads(Bucket='b', Prefix='in/a b')
        self.assertEqual([u['UploadId'] for u in result['Uploads']], ['u1'])
        self.assertEqual(result['ResponseMetadata']['RequestId'], 'S3REQ')
        op, wire, body = self.channel.sent[0]
        self.assertEqual((op, wire['Service'], wire['Operation'], wire['Method']),
                         ('ServiceRequest', 's3', 'ListMultipartUploads', 'GET'))
        self.assertEqual(wire['Path'], '/b?uploads&prefix=in%2Fa%20b')
        self.assertNotIn('Authorization', wire['Headers'])

    def test_a_parameter_the_fast_path_does_not_carry_sends_the_whole_call_generic(self):
        self.answer_xml(200, '', {'etag': '"e1"'})
        self.s3.put_object(Bucket='b', Key='k', Body=io.BytesIO(b'data'), SSEKMSKeyId='key', ServerSideEncryption='aws:kms')
        op, wire, body = self.channel.sent[0]
        self.assertEqual((op, wire['Operation'], wire['Method'], wire['Path'], body),
                         ('ServiceRequest', 'PutObject', 'PUT', '/b/k', b'data'))
        self.assertEqual(wire['Headers']['x-amz-server-side-encryption-aws-kms-key-id'], 'key')

    def test_a_customer_key_given_as_bytes_is_encoded_as_botocore_encodes_it(self):
        # botocore's sse_md5 handler runs before validation: bytes are a valid key, sent base64 with its MD5.
        self.answer_xml(200, '', {'etag': '"e1"'})
        self.s3.put_object(Bucket='b', Key='k', Body=b'data', SSECustomerAlgorithm='AES256', SSECustomerKey=b'k' * 32)
        headers = self.channel.sent[0][1]['Headers']
        self.assertEqual(headers['x-amz-server-side-encryption-customer-key'], base64.b64encode(b'k' * 32).decode())
        self.assertEqual(headers['x-amz-server-side-encryption-customer-key-MD5'],
                         base64.b64encode(hashlib.md5(b'k' * 32).digest()).decode())

    def test_copy_source_travels_as_the_header(self):
        self.answer_xml(200, '<CopyPartResult><ETag>"e"</ETag></CopyPartResult>')
        self.s3.upload_part_copy(Bucket='b', Key='k', UploadId='u', PartNumber=2, CopySource={'Bucket': 's', 'Key': 'x y'})
        wire = self.channel.sent[0][1]
        self.assertEqual((wire['Path'], wire['Headers']['x-amz-copy-source']), ('/b/k?uploadId=u&partNumber=2', 's/x%20y'))

    def test_a_presigned_url_the_fast_path_does_not_sign_is_the_real_botocores_request_signed_by_the_backend(self):
        self.channel.answers.append(_Response(200, {'Url': 'http://store/b/k?signed'}))
        url = self.s3.generate_presigned_url('get_object', Params={'Bucket': 'b', 'Key': 'k 1', 'VersionId': 'null',
                                                                   'Range': 'bytes=0-9'}, ExpiresIn=120)
        self.assertEqual(url, 'http://store/b/k?signed')
        op, wire, body = self.channel.sent[0]
        self.assertEqual((op, wire['Operation'], wire['ExpiresIn'], body), ('GeneratePresignedUrl', 'ServiceRequest', 120, None))
        self.assertEqual(wire['Request'], {'Service': 's3', 'Operation': 'GetObject', 'Method': 'GET',
                                           'Path': '/b/k%201?versionId=null', 'Headers': {'Range': 'bytes=0-9'}})
        self.channel.answers.append(_Response(200, {'Url': 'u2'}))
        self.s3.generate_presigned_url('list_objects_v2', Params={'Bucket': 'b', 'Prefix': 'p/'}, HttpMethod='HEAD')
        self.assertEqual((self.channel.sent[1][1]['Request']['Method'], self.channel.sent[1][1]['Request']['Path']),
                         ('HEAD', '/b?list-type=2&prefix=p%2F&encoding-type=url'))

    def test_a_bucket_the_request_path_cannot_carry_is_refused_before_anything_is_sent(self):
        from botocore.exceptions import NexusUnsupportedError
        arn = 'arn:aws:s3:us-east-1:123456789012:accesspoint/ap'
        with self.assertRaises(NexusUnsupportedError):
            self.s3.get_object_tagging(Bucket=arn, Key='other-bucket/k')
        with self.assertRaises(NexusUnsupportedError):
            self.s3.generate_presigned_url('get_object_tagging', Params={'Bucket': arn, 'Key': 'other-bucket/k'})
        self.assertEqual(self.channel.sent, [])

    def test_store_errors_are_modeled_and_a_head_refusal_carries_the_status(self):
        self.answer_xml(404, '<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>')
        with self.assertRaises(self.s3.exceptions.NoSuchUpload):
            self.s3.get_paginator('list_parts').paginate(Bucket='b', Key='k', UploadId='u').build_full_result()
        self.channel.answer(403, None, refused={'Code': 'AccessDenied', 'Message': "Access Denied: no grant allows reading bucket 'b'.",
                                                'Resource': '/b'})
        with self.assertRaises(ClientError) as caught:
            self.s3.get_bucket_acl(Bucket='b')
        self.assertEqual(caught.exception.response['Error'], {
            'Code': 'AccessDenied', 'Message': "Access Denied: no grant allows reading bucket 'b'.", 'Resource': '/b'})
        self.channel.answer(403, None, refused={'Code': 'AccessDenied', 'Message': "Access Denied: no grant allows reading bucket 'b'."})
        with self.assertRaises(ClientError) as caught:
            self.s3.head_object(Bucket='b', Key='k', VersionId='v')
        self.assertEqual(caught.exception.response['Error'], {'Code': '403', 'Message': 'Forbidden'})

    def test_a_client_with_event_handlers_sends_its_calls_where_they_fire(self):
        seen = []

        def add_type(params, event_name, **kwargs):
            seen.append(event_name)
            params.setdefault('ContentType', 'text/x-hooked')

        self.s3.meta.events.register('before-parameter-build.s3.PutObject', add_type)
        self.s3.meta.events.register('after-call.s3', lambda event_name, **kwargs: seen.append(event_name))
        self.answer_xml(200, '', {'etag': '"e1"'})
        self.s3.put_object(Bucket='b', Key='k', Body=b'data')
        op, wire, body = self.channel.sent[0]
        self.assertEqual((op, wire['Operation'], wire['Headers']['Content-Type'], body),
                         ('ServiceRequest', 'PutObject', 'text/x-hooked', b'data'))
        self.assertEqual(seen, ['before-parameter-build.s3.PutObject', 'after-call.s3.PutObject'])
        self.s3.meta.events.unregister('before-parameter-build.s3.PutObject', add_type)
        self.answer_xml(200, '', {'etag': '"e2"'})
        self.s3.put_object(Bucket='b', Key='k2', Body=b'data')
        self.assertNotIn('text/x-hooked', self.channel.sent[1][1]['Headers'].values())

    def test_session_handlers_reach_the_clients_it_makes_afterwards(self):
        seen = []
        session = boto3.session.Session(region_name='eu-west-1')
        before = session.client('s3')
        session.events.register('after-call.s3', lambda event_name, **kwargs: seen.append(event_name))
        after = session.client('s3')
        self.answer_xml(200, '', {'etag': '"e1"'})
        after.put_object(Bucket='b', Key='k', Body=b'data')
        self.assertEqual(seen, ['after-call.s3.PutObject'])
        self.assertTrue(after.meta.events.routed)
        self.assertFalse(before.meta.events.routed)
        ddb_seen = []
        session.events.register('before-call.dynamodb.GetItem', lambda event_name, **kwargs: ddb_seen.append(event_name))
        channel = ServiceChannel()
        botocore.client._set_transport(channel)
        channel.answer(200, {'Item': {'pk': {'S': 'a'}}})
        session.client('dynamodb').get_item(TableName='orders', Key={'pk': {'S': 'a'}})
        self.assertEqual(ddb_seen, ['before-call.dynamodb.GetItem'])

    def test_a_signer_choice_alone_keeps_the_fast_path(self):
        from botocore.handlers import disable_signing
        from botocore import UNSIGNED
        self.assertIs(disable_signing(), UNSIGNED)
        self.s3.meta.events.register('choose-signer.s3.*', disable_signing)
        self.assertFalse(self.s3.meta.events.routed)
        self.assertNotIn('_real', self.s3.__dict__)
        with self.assertRaisesRegex(ValueError, 'must be callable'):
            self.s3.meta.events.register('before-call.s3', 'not a function')



class LazyLoadingTests(unittest.TestCase):
    def test_s3_alone_never_loads_the_real_sdk(self):
        code = ('import sys; sys.path.insert(0, %r); import boto3; boto3.client("s3"); '
                'print("botocore._nexus_generic" in sys.modules, sys.modules["botocore"].__file__)' % FRONTEND)
        out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stdout.split()
        self.assertEqual(out[0], 'False')

    def test_endpoint_and_credentials_are_said_once(self):
        code = ('import sys; sys.path.insert(0, %r); import boto3; '
                'boto3.client("dynamodb", region_name="us-east-1", endpoint_url="http://x:1"); '
                'boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="a", aws_secret_access_key="b")'
                % FRONTEND)
        err = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stderr
        self.assertEqual(err.count('nexus: a dynamodb client was created with'), 1)
        self.assertIn("endpoint_url='http://x:1'", err)
        self.assertNotIn("endpoint's path", err)

    def test_an_endpoint_path_is_said_to_be_kept(self):
        code = ('import sys; sys.path.insert(0, %r); import boto3; boto3.client("apigatewaymanagementapi", '
                'region_name="us-east-1", endpoint_url="https://abc.execute-api.us-east-1.amazonaws.com/prod")'
                % FRONTEND)
        err = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True).stderr
        self.assertIn("except the endpoint's path, which a REST API's requests keep", err)


def _no_network(*args, **kwargs):
    raise AssertionError('the sandbox opened a network connection')


if __name__ == '__main__':
    unittest.main()
