# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Unit tests of the stand-in's Lambda client (botocore/_nexus_lambda.py) with a fake channel: one ServiceRequest per
attempt, no real SDK, the channel's failures as botocore's. Its answers are compared with real boto3's in
tests/Nexus.Frontend.Tests (LambdaStandInTests, difftests/lambdatest.py)."""

import io
import json
import os
import sys
import unittest
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
FRONTEND = os.path.dirname(HERE)
sys.path.insert(0, FRONTEND)
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from botocore import _nexus_responses, _nexus_service  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ConnectionClosedError, ParamValidationError, ReadTimeoutError  # noqa: E402


class _Response:
    def __init__(self, status, meta, body=b''):
        self.status, self.meta, self.body = status, meta, io.BytesIO(body)


class _ChannelBroke(Exception):
    pass


class _Timeout(Exception):
    pass


class LambdaChannel:
    """Answers every ServiceRequest with the next canned answer; records what was sent."""

    def __init__(self, *answers):
        self.sent = []
        self.answers = list(answers)

    def call(self, op, params, body=None, timeout=None):
        self.sent.append((op, params, body, timeout))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def ok(payload=b'{"ok": true}'):
    return _Response(200, {'Headers': {'x-amzn-requestid': 'R1', 'content-length': str(len(payload))}}, payload)


class LambdaClientTests(unittest.TestCase):
    def tearDown(self):
        botocore.client._set_transport(None)

    def client(self, channel, **config):
        botocore.client._set_transport(channel)
        return boto3.client('lambda', region_name='eu-west-1', config=Config(**config) if config else None)

    def test_an_invoke_is_one_service_request_as_botocore_serializes_it(self):
        channel = LambdaChannel(ok())
        lam = self.client(channel)
        answer = lam.invoke(FunctionName='arn:aws:lambda:eu-west-1:123456789012:function:f',
                                             Qualifier='$LATEST', InvocationType='RequestResponse', Payload='{"é": 1}')
        (op, wire, body, _), = channel.sent
        self.assertEqual('ServiceRequest', op)
        self.assertEqual(('lambda', 'Invoke', 'POST'), (wire['Service'], wire['Operation'], wire['Method']))
        self.assertEqual('/2015-03-31/functions/arn%3Aaws%3Alambda%3Aeu-west-1%3A123456789012%3Afunction%3Af'
                         '/invocations?Qualifier=%24LATEST', wire['Path'])
        self.assertEqual('RequestResponse', wire['Headers']['X-Amz-Invocation-Type'])
        self.assertEqual('{"é": 1}'.encode(), body)
        self.assertEqual({'ok': True}, json.loads(answer['Payload'].read()))
        self.assertEqual('R1', answer['ResponseMetadata']['RequestId'])
        # No real client was made for it (the generic path's real SDK is loaded only through one).
        self.assertNotIn('_real', vars(lam))

    def test_a_broken_channel_is_a_closed_connection_and_is_not_retried(self):
        channel = LambdaChannel(_ChannelBroke('the host went away'))
        lam = self.client(channel)
        original = _nexus_service.channel_errors
        _nexus_service.channel_errors = lambda: (_ChannelBroke,)
        try:
            with self.assertRaises(ConnectionClosedError) as raised:
                lam.invoke(FunctionName='f')
        finally:
            _nexus_service.channel_errors = original
        self.assertIn('Nexus channel: the host went away', str(raised.exception))
        self.assertEqual(1, len(channel.sent))

    def test_a_read_timeout_is_the_config_s_retried_as_botocore_retries_it_then_raised(self):
        """Each attempt waits read_timeout for its answer to start; a late one is a ReadTimeoutError, which legacy
        mode retries (5 attempts: 4 timeouts then an answer succeed) and raises once the attempts are spent."""
        channel = LambdaChannel(*([_Timeout()] * 4), ok())
        original = _nexus_service.channel_timeouts
        _nexus_service.channel_timeouts = lambda: (_Timeout,)
        try:
            with mock.patch.object(_nexus_responses.time, 'sleep'):
                lam = self.client(channel, read_timeout=7)
                answered = lam.invoke(FunctionName='f', Payload=b'{}')
                self.assertEqual(4, answered['ResponseMetadata']['RetryAttempts'])
                self.assertEqual([7] * 5, [timeout for _, _, _, timeout in channel.sent])
                channel.answers = [_Timeout()] * 2
                with self.assertRaises(ReadTimeoutError) as raised:
                    self.client(channel, retries={'max_attempts': 1}).invoke(FunctionName='f', Payload=b'{}')
            self.assertEqual('Read timeout on endpoint URL: "https://lambda.eu-west-1.amazonaws.com'
                             '/2015-03-31/functions/f/invocations"', str(raised.exception))
            self.assertEqual([60, 60], [timeout for _, _, _, timeout in channel.sent[5:]])
        finally:
            _nexus_service.channel_timeouts = original

    def test_validation_off_sends_what_the_handler_gave(self):
        channel = LambdaChannel(ok())
        self.client(channel, parameter_validation=False).invoke(FunctionName='f', LogType=7)
        self.assertEqual('7', channel.sent[0][1]['Headers']['X-Amz-Log-Type'])
        with self.assertRaises(ParamValidationError):
            self.client(LambdaChannel()).invoke(FunctionName='f', LogType=7)

    def test_a_refusal_of_the_backend_is_raised_as_its_code_without_retries(self):
        refused = _Response(403, {'Error': {'Code': 'AccessDenied', 'Message': 'not granted'}})
        channel = LambdaChannel(refused)
        lam = self.client(channel)
        with self.assertRaises(lam.exceptions.ClientError) as raised:
            lam.invoke(FunctionName='f')
        self.assertEqual({'Code': 'AccessDenied', 'Message': 'not granted'}, raised.exception.response['Error'])
        self.assertEqual(403, raised.exception.response['ResponseMetadata']['HTTPStatusCode'])

    def test_a_text_file_is_sent_as_http_client_sends_it(self):
        # Not in the differential suite: real boto3 fails there first, in its CRT signer (the sandbox signs nothing).
        channel = LambdaChannel(ok())
        self.client(channel).invoke(FunctionName='f', Payload=io.StringIO('{"a": "caf\u00e9"}'))
        self.assertEqual('{"a": "caf\u00e9"}'.encode('iso-8859-1'), channel.sent[0][2])

    def test_only_keyword_arguments(self):
        with self.assertRaisesRegex(TypeError, r'^invoke\(\) only accepts keyword arguments\.$'):
            self.client(LambdaChannel()).invoke('f')


if __name__ == '__main__':
    unittest.main()
