# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The S3 fast path's read_timeout: each attempt waits the client's read_timeout for its answer to start, a late answer
is retried as botocore retries a read timeout (a file body sent again from where it started), then ReadTimeoutError.
The end-to-end comparison with real boto3 is tests/Nexus.Frontend.Tests/S3ReadTimeoutTests.cs."""

import io
import unittest
from unittest import mock

import frontend_case  # noqa: F401  (the stand-in first on sys.path)
import boto3
import botocore.client
from botocore.config import Config
from botocore.exceptions import ReadTimeoutError
from fake_transport import FakeTransport


class _Timeout(Exception):
    """The channel's ChannelTimeout, as botocore.client.channel_timeouts() names it."""


class _LateTransport(FakeTransport):
    """Answers after ``late`` attempts time out; a timed-out put has read part of its body, as a call abandoned while
    its body streamed has."""

    def __init__(self, late):
        super().__init__(buckets=('bucket',))
        self.late = late
        self.timeouts = []

    def call(self, op, params, body=None, timeout=None):
        self.timeouts.append(timeout)
        if self.late > 0:
            self.late -= 1
            if hasattr(body, 'read'):
                body.read(3)
            raise _Timeout()
        return super().call(op, params, body, timeout)


class S3ReadTimeoutTests(unittest.TestCase):
    def setUp(self):
        patches = [mock.patch.object(botocore.client, 'channel_timeouts', lambda: (_Timeout,)),
                   mock.patch.object(botocore.client, 'back_off', lambda *args: None)]
        for patch in patches:
            patch.start()
            self.addCleanup(patch.stop)
        self.addCleanup(botocore.client._set_transport, None)

    def _client(self, late, **config):
        self.transport = _LateTransport(late)
        botocore.client._set_transport(self.transport)
        return boto3.client('s3', config=Config(**config))

    def test_each_attempt_waits_the_read_timeout_and_legacy_mode_makes_five(self):
        s3 = self._client(late=4, read_timeout=7)
        self.transport.put('bucket', 'k', b'data')
        self.assertEqual(b'data', s3.get_object(Bucket='bucket', Key='k')['Body'].read())
        self.assertEqual([7] * 5, self.transport.timeouts)

    def test_the_attempts_spent_raise_read_timeout_error(self):
        s3 = self._client(late=5, read_timeout=2)
        with self.assertRaises(ReadTimeoutError):
            s3.head_object(Bucket='bucket', Key='k')
        self.assertEqual(5, len(self.transport.timeouts))

    def test_the_default_read_timeout_is_botocore_s(self):
        s3 = self._client(late=0)
        s3.list_objects_v2(Bucket='bucket')
        self.assertEqual([60], self.transport.timeouts)

    def test_standard_mode_takes_ten_from_the_retry_quota_per_timeout_and_stops_when_it_is_spent(self):
        s3 = self._client(late=10 ** 6, read_timeout=1, retries={'mode': 'standard', 'max_attempts': 2})
        calls = 0
        while True:
            before = len(self.transport.timeouts)
            with self.assertRaises(ReadTimeoutError):
                s3.head_object(Bucket='bucket', Key='k')
            calls += 1
            if len(self.transport.timeouts) - before == 1:
                break
        # Three attempts a call (max_attempts counts retries): 500 units are 25 calls' two retries, the 26th gets none.
        self.assertEqual(26, calls)

    def test_a_file_body_is_sent_again_from_where_it_started(self):
        s3 = self._client(late=1, read_timeout=1)
        body = io.BytesIO(b'skip:the payload')
        body.seek(5)
        s3.put_object(Bucket='bucket', Key='k', Body=body)
        self.assertEqual(b'the payload', self.transport.buckets['bucket']['k']['data'])

    def test_a_body_that_cannot_be_rewound_is_not_sent_again(self):
        class Unseekable(io.RawIOBase):
            def readable(self):
                return True

            def readinto(self, buffer):
                return 0

        s3 = self._client(late=1, read_timeout=1)
        with self.assertRaises(ReadTimeoutError):
            s3.put_object(Bucket='bucket', Key='k', Body=Unseekable())
        self.assertEqual(1, len(self.transport.timeouts))


if __name__ == '__main__':
    unittest.main()
