# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""StreamingBody over a channel response body, with botocore's read/iteration semantics."""

from io import IOBase

from botocore.exceptions import IncompleteReadError, ResponseStreamingError


class StreamingBody(IOBase):
    """The ``Body`` of a get_object response: reads the payload in place from the channel region."""

    _DEFAULT_CHUNK_SIZE = 1024

    def __init__(self, raw_stream, content_length):
        self._raw_stream = raw_stream
        self._content_length = content_length
        self._amount_read = 0

    def __del__(self):
        # Like botocore: do not let IOBase's finalizer close the raw stream behind the caller's back.
        pass

    def set_socket_timeout(self, timeout):
        """No socket in nexus mode: accepted for compatibility."""

    def readable(self):
        try:
            return self._raw_stream.readable()
        except AttributeError:
            return False

    def read(self, amt=None):
        from botocore.client import channel_errors
        try:
            chunk = self._raw_stream.read() if amt is None else self._read_amount(amt)
        except channel_errors() as e:
            # As botocore reports a connection that breaks mid-body.
            raise ResponseStreamingError(error=e) from e
        self._amount_read += len(chunk)
        if amt is None or (not chunk and amt > 0):
            self._verify_content_length()
        return chunk

    def _read_amount(self, amt):
        # urllib3's read(amt) returns amt bytes unless the body ends first; the channel's raw stream returns
        # at most one region chunk per call, so keep reading across chunk boundaries.
        chunk = self._raw_stream.read(amt)
        if not chunk or len(chunk) >= amt:
            return chunk
        parts = [chunk]
        got = len(chunk)
        while got < amt:
            more = self._raw_stream.read(amt - got)
            if not more:
                break
            parts.append(more)
            got += len(more)
        return b''.join(parts)

    def readlines(self):
        return self.read().splitlines(True)

    def __iter__(self):
        return self.iter_chunks(self._DEFAULT_CHUNK_SIZE)

    def __next__(self):
        current_chunk = self.read(self._DEFAULT_CHUNK_SIZE)
        if current_chunk:
            return current_chunk
        raise StopIteration()

    next = __next__

    def __enter__(self):
        # botocore returns the raw stream here, not the StreamingBody; handlers may rely on it.
        return self._raw_stream

    def __exit__(self, type, value, traceback):
        self._raw_stream.close()

    def iter_lines(self, chunk_size=_DEFAULT_CHUNK_SIZE, keepends=False):
        pending = b''
        for chunk in self.iter_chunks(chunk_size):
            lines = (pending + chunk).splitlines(True)
            for line in lines[:-1]:
                yield line.splitlines(keepends)[0]
            pending = lines[-1]
        if pending:
            yield pending.splitlines(keepends)[0]

    def iter_chunks(self, chunk_size=_DEFAULT_CHUNK_SIZE):
        while True:
            current_chunk = self.read(chunk_size)
            if current_chunk == b'':
                break
            yield current_chunk

    def _verify_content_length(self):
        if self._content_length is not None and self._amount_read != int(self._content_length):
            raise IncompleteReadError(
                actual_bytes=self._amount_read, expected_bytes=int(self._content_length))

    def tell(self):
        return self._amount_read

    def close(self):
        self._raw_stream.close()


class _EmptyRaw:
    """Raw stream of a response without payload."""

    def read(self, n=-1):
        return b''

    def readinto(self, buffer):
        return 0

    def readable(self):
        return True

    def close(self):
        pass
