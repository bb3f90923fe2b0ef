# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A response, and its body read out of the host's slots."""

import io
import os

from nexus_channel.layout import FLAG_MORE, NO_SLOT, ChannelError


class Response:
    """status: HTTP-like int; meta: dict (boto3 response fields, or {"Error": {...}}); body: BodyStream."""

    __slots__ = ("status", "meta", "body")

    def __init__(self, status, meta, body):
        self.status = status
        self.meta = meta
        self.body = body

    def __repr__(self):
        return f"Response(status={self.status}, meta={self.meta!r})"


class BodyStream:
    """The response body as a raw binary stream over the shared region. read() returns bytes (a copy);
    read_view(n) returns a memoryview straight over the region, valid until the next read or close()."""

    def __init__(self, transport, call):
        self._t = transport
        self._call = call
        self._rec = None
        self._pos = 0
        self._remaining = 0
        self._last = False
        self._closed = False

    def _read_exact(self, n):
        """The header bytes, which precede the body in the same chunk stream."""
        out = bytearray()
        while len(out) < n:
            v = self._chunk_view(n - len(out))
            if v is None:
                raise ChannelError("response ended inside its header")
            out += v
        return bytes(out)

    def _chunk_view(self, n):
        """Up to n bytes of the current chunk as a memoryview; None at the end of the message."""
        while self._rec is None or self._pos >= self._rec[5]:
            self._drop_current()
            if self._last:
                return None
            rec = self._t._next_chunk(self._call)
            self._rec, self._pos = rec, 0
            if not rec[2] & FLAG_MORE:
                self._last = True
                self._t._forget(self._call)
        take = min(n, self._rec[5] - self._pos)
        start = self._rec[4] + self._pos
        self._pos += take
        return memoryview(self._t._mm)[start:start + take]

    def _drop_current(self):
        rec, self._rec = self._rec, None
        if rec is not None and rec[8] != NO_SLOT:
            self._t._release(rec[8])

    def _consumed(self):
        """Every chunk has arrived and the last one's slot is back: a close would release nothing."""
        return self._last and self._rec is None

    def _finish_if_done(self):
        # Once every body byte is consumed the last slot goes back at once, not at close().
        if self._remaining == 0 and self._last and self._rec is not None:
            self._drop_current()

    def read_view(self, n=-1):
        self._finish_if_done()
        if self._closed or self._remaining == 0:
            return memoryview(b"")
        if n is None or n < 0 or n > self._remaining:
            n = self._remaining
        v = self._chunk_view(n)
        if v is None:
            raise ChannelError(f"response body ended {self._remaining} bytes early")
        self._remaining -= len(v)
        return v

    def read(self, n=-1):
        if n is None or n < 0:
            out = self._read_rest()
            self._finish_if_done()
            return out
        out = bytes(self.read_view(n))
        self._finish_if_done()
        return out

    def _read_rest(self):
        """The rest of the body as bytes, each byte copied once out of the region. Across chunks it goes into one
        buffer of the final size, which BytesIO hands over as the bytes it returns: a bytearray grown chunk by chunk
        and then copied into bytes cost a 10 MiB GetObject twice the copying (docs/evaluation.md)."""
        total = self._remaining
        v = self.read_view(-1)
        if len(v) == total or not v:
            return bytes(v)
        arrived = self._t._take_arrived(self._call, total - len(v))
        if arrived is not None:
            return self._join_arrived(v, arrived)
        out = io.BytesIO()
        out.seek(total - 1)
        out.write(b"\0")
        out.seek(0)
        while v:
            out.write(v)
            v = self.read_view(-1)
        return out.getvalue()

    def _join_arrived(self, view, records):
        """The rest of the body when all its chunks are in the region already (a GetObject of a cached copy: a 1 MiB
        body is two chunks, the response header in front of it pushing its tail into a second slot): joined straight
        into bytes of the final size. BytesIO, sized first by writing its last byte, zero-fills the whole buffer before
        it is copied into (~40 us a 1 MiB read in a sandbox). No slot goes back before the copy: nothing is waited for
        while they are held."""
        views = [view]
        views.extend(self._t.slot_view(rec) for rec in records)
        out = b"".join(views)
        self._remaining = 0
        self._last = True
        self._t._forget(self._call)
        self._drop_current()
        for rec in records:
            if rec[8] != NO_SLOT:
                self._t._release(rec[8])
        return out

    def readinto(self, buffer):
        target = memoryview(buffer).cast("B")
        done = 0
        while done < len(target):
            v = self.read_view(len(target) - done)
            if not v:
                break
            target[done:done + len(v)] = v
            done += len(v)
        self._finish_if_done()
        return done

    def readable(self):
        return True

    @property
    def closed(self):
        return self._closed

    def close(self):
        if self._closed:
            return
        releases = []
        with self._t._lock:
            self._close_locked(releases)
        for slot in releases:
            self._t._release(slot)

    def _close_locked(self, releases):
        """close() for a caller that holds the transport's lock: the slots to release go to ``releases``."""
        if self._closed:
            return
        self._closed = True
        rec, self._rec = self._rec, None
        if rec is not None and rec[8] != NO_SLOT:
            releases.append(rec[8])
        if not self._last:
            self._t._discard_rest(self._call, releases)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        # The collector may run this on any thread, even one holding the transport's lock: hand the close to the
        # next call or drain instead of taking the lock here. A body read to its end holds nothing any more (its last
        # slot went back as it was consumed, its call is forgotten): no hand-over, and no doorbell write, which would
        # wake the next wait for nothing (two system calls and a drain on every GetObject read whole).
        if not self._closed and not self._consumed():
            self._t._abandoned.append(self)
            try:
                os.eventfd_write(self._t._from_host, 1)   # a thread reading the doorbell drains, and closes it, now
            except OSError:
                pass
