# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's StreamingBody over a channel body."""

import io
import unittest

from frontend_case import FrontendTestCase
from botocore.exceptions import IncompleteReadError


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


if __name__ == '__main__':
    unittest.main()
