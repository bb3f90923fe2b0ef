# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Unit tests of the stand-in's DynamoDB client (botocore/_nexus_ddb.py) with a fake channel: DynamoDB's retry policy
and CRC32 check as botocore 1.29 applies them, a modeled error's nested fields. Its records are compared with real
boto3's against dynalite in tests/Nexus.Frontend.Tests (GenericPathTests, difftests/ddbitems.py)."""

import base64
import io
import json
import os
import sys
import unittest
import zlib
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
FRONTEND = os.path.dirname(HERE)
sys.path.insert(0, FRONTEND)
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from botocore import _nexus_responses  # noqa: E402
from botocore.config import Config  # noqa: E402
from botocore.exceptions import ChecksumError  # noqa: E402


class _Response:
    def __init__(self, status, body, crc=None):
        data = json.dumps(body).encode()
        headers = {'x-amzn-requestid': 'R', 'x-amz-crc32': str(zlib.crc32(data) if crc is None else crc)}
        self.status, self.meta, self.body = status, {'Headers': headers}, io.BytesIO(data)


class Channel:
    def __init__(self, *answers):
        self.answers, self.sent = list(answers), []

    def call(self, op, params, body=None, timeout=None):
        self.sent.append((op, params, body))
        return self.answers.pop(0)


THROTTLED = {'__type': 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException', 'message': 'slow'}


class DynamoDBClientTests(unittest.TestCase):
    def tearDown(self):
        botocore.client._set_transport(None)

    def client(self, channel, **config):
        botocore.client._set_transport(channel)
        return boto3.client('dynamodb', region_name='us-east-1', config=Config(**config) if config else None)

    def test_legacy_mode_retries_throttling_ten_times_from_fifty_milliseconds(self):
        channel = Channel(*[_Response(400, THROTTLED) for _ in range(10)])
        ddb = self.client(channel)
        with mock.patch.object(_nexus_responses.time, 'sleep') as sleep:
            with self.assertRaises(ddb.exceptions.ProvisionedThroughputExceededException) as raised:
                ddb.get_item(TableName='orders', Key={'pk': {'S': 'a'}})
        self.assertEqual([0.05 * 2 ** n for n in range(9)], [c.args[0] for c in sleep.call_args_list])
        metadata = raised.exception.response['ResponseMetadata']
        self.assertEqual((9, True), (metadata['RetryAttempts'], metadata['MaxAttemptsReached']))
        self.assertEqual(10, len(channel.sent))

    def test_a_crc32_mismatch_is_retried_then_raised(self):
        channel = Channel(_Response(200, {}, crc=1), _Response(200, {'Item': {'n': {'N': '1'}}}),
                          _Response(200, {}, crc=1), _Response(200, {}, crc=1))
        ddb = self.client(channel, retries={'max_attempts': 1})
        with mock.patch.object(_nexus_responses.time, 'sleep'):
            self.assertEqual({'n': {'N': '1'}}, ddb.get_item(TableName='orders', Key={'pk': {'S': 'a'}})['Item'])
            with self.assertRaises(ChecksumError):
                ddb.get_item(TableName='orders', Key={'pk': {'S': 'a'}})

    def test_a_cancelled_transaction_names_its_reasons_with_their_items_decoded(self):
        reasons = [{'Code': 'None'}, {'Code': 'ConditionalCheckFailed', 'Message': 'failed',
                                      'Item': {'b': {'B': base64.b64encode(b'\x00\x01').decode()}}}]
        channel = Channel(_Response(400, {'__type': 'com.amazonaws.dynamodb.v20120810#TransactionCanceledException',
                                          'Message': 'Transaction cancelled', 'CancellationReasons': reasons}))
        ddb = self.client(channel)
        with self.assertRaises(ddb.exceptions.TransactionCanceledException) as raised:
            ddb.transact_write_items(TransactItems=[{'Put': {'TableName': 'orders', 'Item': {'pk': {'S': 'a'}}}}])
        response = raised.exception.response
        self.assertEqual('Transaction cancelled', response['Message'])
        self.assertEqual(b'\x00\x01', response['CancellationReasons'][1]['Item']['b']['B'])
        self.assertEqual({'Code': 'None'}, response['CancellationReasons'][0])

    def test_blobs_travel_as_base64(self):
        channel = Channel(_Response(200, {}))
        self.client(channel).put_item(TableName='orders', Item={'b': {'B': b'\xff'}, 'bs': {'BS': [b'\x00', 'a']}})
        self.assertEqual({'b': {'B': '/w=='}, 'bs': {'BS': ['AA==', 'YQ==']}}, json.loads(channel.sent[0][2])['Item'])
        self.assertEqual('DynamoDB_20120810.PutItem', channel.sent[0][1]['Headers']['X-Amz-Target'])

    def test_an_idempotency_token_is_filled_as_botocore_fills_it(self):
        import uuid
        channel = Channel(_Response(200, {}), _Response(200, {}))
        ddb = self.client(channel)
        items = [{'Put': {'TableName': 'orders', 'Item': {'pk': {'S': 'a'}}}}]
        ddb.transact_write_items(TransactItems=items)
        ddb.transact_write_items(TransactItems=items, ClientRequestToken='mine')
        first, second = (json.loads(sent[2])['ClientRequestToken'] for sent in channel.sent)
        self.assertEqual(4, uuid.UUID(first).version)
        self.assertEqual('mine', second)

    def test_botocore_sessions_make_the_same_client(self):
        import botocore.session
        channel = Channel(_Response(200, {'Item': {'n': {'N': '1'}}}))
        botocore.client._set_transport(channel)
        ddb = botocore.session.get_session().create_client('dynamodb', region_name='us-east-1')
        self.assertIs(type(boto3.client('dynamodb', region_name='us-east-1')), type(ddb))
        self.assertEqual({'n': {'N': '1'}}, ddb.get_item(TableName='orders', Key={'pk': {'S': 'a'}})['Item'])


if __name__ == '__main__':
    unittest.main()
