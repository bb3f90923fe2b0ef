# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""One sandbox's connection to its channel: requests out through the submission ring, answers back."""

import itertools
import json
import mmap
import os
import select
import struct
import threading
import time
import weakref

from nexus_channel.body import BodyStream, Response
from nexus_channel.invocations import invocation_from
from nexus_channel.layout import (
    FLAG_MORE, HEADER_SIZE, MAGIC, NO_SLOT, OFF_CMP_HEAD, OFF_CMP_TAIL, OFF_HOST_CLOSED, OFF_HOST_WANTS_CMP,
    OFF_SANDBOX_WANTS_SUB, OFF_SUB_HEAD, OFF_SUB_TAIL, OP_DATA, OP_DATA_ACK, OP_RELEASE, OPS, REC, RECORD_SIZE, VERSION,
    ChannelError, ChannelTimeout)
from nexus_channel.restore import read_restore


class _Call:
    __slots__ = ("rid", "extents", "chunks", "first", "done", "discard", "error")

    def __init__(self, rid):
        self.rid = rid
        self.extents = []      # request-area extents this call holds
        self.chunks = []       # completion records not yet consumed
        self.first = None      # first completion record (status, header/total lengths)
        self.done = False      # the host has finished reading the request
        self.discard = False   # the reader closed early: release arriving chunks at once
        self.error = None


# Every transport of this process, so that a forked child can mark them unusable (below).
_transports = weakref.WeakSet()

FORKED = ("this process is a fork of the one that holds the Nexus channel (os.fork, or multiprocessing's default 'fork' "
          "start method); in nexus mode only that process can use the channel: a second writer to its rings would break "
          "every call of both. Make the calls in the function's own process (threads work: "
          "concurrent.futures.ThreadPoolExecutor), and pass data to child processes.")


def _after_fork_in_child():
    # The child shares the parent's region but not its ring state or its threads: were it to write a record, the parent's
    # calls would wait for answers that went to the child, and the child's for answers the parent took. It gets an
    # error instead. The locks are new: another thread of the parent may have held them at the fork, and is gone here.
    for transport in list(_transports):
        transport._lock = threading.Lock()
        transport._progress = threading.Condition(transport._lock)
        transport._reading = False
        transport._pending = {}
        transport._abandoned = []
        transport._closed = ChannelError(FORKED)


os.register_at_fork(after_in_child=_after_fork_in_child)


class Transport:
    """One sandbox's connection to its channel. Thread-safe: calls from many threads run concurrently.

    There is no dispatcher thread: a thread that must wait for the host reads the doorbell itself and drains the
    completion ring for every call (one reader at a time; the others wait for it). A call's answer thus wakes the
    calling thread straight from the kernel, not through a second thread and a condition (~80 us per call on a
    loaded 2-core host, four calls per invocation; docs/benchmarks.md).
    """

    def __init__(self, region_fd, to_host_fd, from_host_fd, size=None, spin=0):
        if size is None:
            size = os.fstat(region_fd).st_size
        self._mm = mmap.mmap(region_fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self._words = memoryview(self._mm)[:HEADER_SIZE].cast("I")
        self._to_host = to_host_fd
        self._from_host = from_host_fd
        self._spin = spin
        magic, version, record_size, region_size, sub_entries, cmp_entries, sub_off, cmp_off, \
            req_off, req_size, slot_off, slot_size, slot_count, max_header = \
            struct.unpack_from("<IHHQIIQQQQQIII", self._mm, 0)
        if magic != MAGIC or version != VERSION or record_size != RECORD_SIZE or region_size > size:
            raise ChannelError(f"not a Nexus channel v{VERSION} region (magic {magic:#x}, version {version})")
        self._sub_entries, self._cmp_entries = sub_entries, cmp_entries
        self._sub_off, self._cmp_off = sub_off, cmp_off
        self._slot_off, self._slot_size, self._slot_count = slot_off, slot_size, slot_count
        self.max_header = max_header
        self.chunk_size = slot_size
        self._free_extents = [req_off + i * slot_size for i in range(req_size // slot_size)]
        self._free_extents.reverse()
        self._written_extents = set()   # written since their pages were last given back
        self._releasable = True         # False once the region refused MADV_REMOVE (a microVM's device mapping)
        self._lock = threading.Lock()
        self._progress = threading.Condition(self._lock)   # notified after every drain of the completion ring
        self._reading = False                               # a thread is reading the doorbell
        self._unrung = False                                # records published since the host was last rung
        self._sub_tail = self._load_word(OFF_SUB_TAIL)
        self._cmp_head = self._load_word(OFF_CMP_HEAD)
        self._pending = {}
        self._abandoned = []    # bodies dropped unclosed, closed by the next call or drain
        self._ids = itertools.count(1)
        self._closed = None
        self.restore = read_restore(self._mm)
        _transports.add(self)

    # Ring indices and flags are shared with a host reading concurrently: each is one aligned 4-byte access through
    # a native "I" view (a single memcpy of 4 bytes). struct.pack_into zero-fills the field and then writes it byte by
    # byte, so the host could read 0 or a mix of old and new bytes and close the channel as hostile.
    def _load_word(self, offset):
        return self._words[offset >> 2]

    def _store_word(self, offset, value):
        self._words[offset >> 2] = value

    # ---- public API -------------------------------------------------------------------------

    def call(self, op, params, body=None, timeout=None):
        """Sends one request and returns its Response once the host starts answering. With a timeout (seconds), a call
        the host has not started answering by then raises ChannelTimeout and is abandoned (botocore's read timeout)."""
        code = OPS.get(op)
        if code is None:
            raise ValueError(f"unknown channel op {op!r}")
        header = json.dumps(params if params is not None else {}, separators=(",", ":")).encode()
        if len(header) > self.max_header:
            raise ValueError(f"{op} parameters are {len(header)} bytes of JSON; the channel takes at most {self.max_header}")
        if self._abandoned:
            self._close_abandoned()
        call = self._start(code, header, body)
        return self._await_response(call, None if timeout is None else time.monotonic() + timeout)

    def next_invocation(self):
        """Blocks until the host pushes an invocation; returns an Invocation."""
        return invocation_from(self.call("NextInvocation", {}), "NextInvocation")

    def post_response(self, request_id, payload, wait_next=False, picked_up_ns=None):
        """Posts a result. With wait_next, the same request then waits for the next invocation, which the host pushes
        into it (one round trip per invocation instead of two): returns that Invocation. picked_up_ns (when the event
        was in hand, time.monotonic_ns) goes with the submission time to the host, which splits its overhead with them."""
        return self._post_result("InvocationResponse", request_id, payload, wait_next, picked_up_ns)

    def post_error(self, request_id, error, wait_next=False, picked_up_ns=None):
        return self._post_result("InvocationError", request_id, json.dumps(error).encode(), wait_next, picked_up_ns)

    def init_error(self, error):
        resp = self.call("InitError", {}, json.dumps(error).encode())
        resp.body.close()
        if resp.status >= 300:
            raise ChannelError(f"InitError rejected: {resp.status} {resp.meta}")
        return resp.status

    def close(self):
        self._fail_all(ChannelError("transport closed"))

    # ---- sending ----------------------------------------------------------------------------

    def _post_result(self, op, request_id, payload, wait_next, picked_up_ns):
        params = {"RequestId": request_id, "Next": True} if wait_next else {"RequestId": request_id}
        if picked_up_ns is not None:
            params["PickedUpNs"] = picked_up_ns
            params["SubmittedNs"] = time.monotonic_ns()
        resp = self.call(op, params, payload)
        if wait_next and resp.status == 200:
            return invocation_from(resp, op)
        resp.body.close()
        if resp.status >= 300:
            raise ChannelError(f"{op} rejected: {resp.status} {resp.meta}")
        return None

    def _start(self, code, header, body):
        view, fileobj, total = _body_source(body)
        with self._lock:
            self._check_open()
            rid = next(self._ids)
            call = _Call(rid)
            self._pending[rid] = call
        stream_len = len(header) + total
        sent = 0
        chunk = 0
        hview = memoryview(header)
        while True:
            with self._lock:
                while not self._free_extents and not call.done:
                    self._check_open()
                    self._wait_locked()
                if call.done:
                    return call       # the host answered early (an error): stop sending
                offset = self._free_extents.pop()
                self._written_extents.add(offset)
            n = min(self.chunk_size, stream_len - sent)
            pos = 0
            if sent < len(header):
                h = min(n, len(header) - sent)
                self._mm[offset:offset + h] = hview[sent:sent + h]
                pos = h
            while pos < n:
                body_at = sent + pos - len(header)
                want = n - pos
                if view is not None:
                    self._mm[offset + pos:offset + pos + want] = view[body_at:body_at + want]
                    got = want
                else:
                    got = fileobj.readinto(memoryview(self._mm)[offset + pos:offset + pos + want])
                    if not got:
                        raise ValueError(f"request body ended after {body_at} of {total} bytes")
                pos += got
            sent += n
            more = sent < stream_len
            if chunk == 0:
                rec = (rid, code, FLAG_MORE if more else 0, 0, offset, n, len(header), total, NO_SLOT, 0)
            else:
                rec = (rid, OP_DATA, FLAG_MORE if more else 0, 0, offset, n, 0, 0, NO_SLOT, chunk)
            with self._lock:
                # The extent joins the call only as it is submitted: if the host has answered meanwhile, it
                # never reads this chunk, and the extent goes straight back.
                if call.done:
                    self._free_extents.append(offset)
                    self._progress.notify_all()
                    return call
                call.extents.append(offset)
                self._submit_locked(rec)
                self._unrung = False
            os.eventfd_write(self._to_host, 1)
            chunk += 1
            if not more:
                return call

    def _submit_locked(self, rec):
        """Publishes one record (caller holds the lock and rings fd 4 afterwards)."""
        while True:
            self._check_open()
            head = self._load_word(OFF_SUB_HEAD)
            if (self._sub_tail - head) & 0xFFFFFFFF < self._sub_entries:
                break
            self._store_word(OFF_SANDBOX_WANTS_SUB, 1)
            os.eventfd_write(self._to_host, 1)
            self._wait_locked()   # the host rings once it has taken records
        index = self._sub_tail & (self._sub_entries - 1)
        REC.pack_into(self._mm, self._sub_off + index * RECORD_SIZE, *rec)
        self._sub_tail = (self._sub_tail + 1) & 0xFFFFFFFF
        self._store_word(OFF_SUB_TAIL, self._sub_tail)

    def _release(self, slot):
        """Returns a response slot. Not rung on its own (a host wake-up per response): the next request rings for it,
        and so does any thread before it waits for the host, so the host never waits for a slot nobody told it of."""
        with self._lock:
            self._submit_locked((0, OP_RELEASE, 0, 0, 0, 0, 0, 0, slot, 0))
            self._unrung = True

    # ---- receiving --------------------------------------------------------------------------

    def _await_response(self, call, deadline):
        with self._lock:
            while call.first is None:
                if call.error is not None:
                    raise call.error
                if deadline is not None and time.monotonic() >= deadline:
                    # Its records, when they come, are dropped and their slots given back (_on_completion).
                    call.discard = True
                    raise ChannelTimeout(f"no answer within the call's timeout (request {call.rid})")
                self._wait_locked(deadline)
        rec = call.first
        body = BodyStream(self, call)
        header = body._read_exact(rec[6])
        try:
            meta = json.loads(header) if header else {}
        except ValueError as e:
            body.close()
            raise ChannelError(f"host sent a malformed response header: {e}") from None
        body._remaining = rec[7]
        body._finish_if_done()
        return Response(rec[3], meta, body)

    def _next_chunk(self, call):
        with self._lock:
            while not call.chunks:
                if call.error is not None:
                    raise call.error
                self._wait_locked()
            return call.chunks.pop(0)

    def _take_arrived(self, call, length):
        """The call's queued chunk records, taken off it, when they are the rest of its message (the last one has
        arrived) and hold exactly ``length`` bytes; else None, and nothing is taken."""
        with self._lock:
            chunks = call.chunks
            if not chunks or chunks[-1][2] & FLAG_MORE or sum(rec[5] for rec in chunks) != length:
                return None
            call.chunks = []
            return chunks

    def _wait_locked(self, deadline=None):
        """Waits for progress from the host (caller holds the lock; it is released while waiting), or until the
        deadline (time.monotonic()) if one is given. The first thread to wait reads the doorbell and drains the
        completion ring for every call; the others wait for that drain."""
        if self._unrung:
            self._unrung = False
            os.eventfd_write(self._to_host, 1)
        if self._reading:
            self._progress.wait(None if deadline is None else max(0.0, deadline - time.monotonic()))
            return
        self._reading = True
        self._lock.release()
        error = None
        try:
            spins = self._spin
            while spins > 0 and self._load_word(OFF_CMP_TAIL) == self._cmp_head:
                spins -= 1
            if spins == 0 and (deadline is None or self._doorbell_rings_by(deadline)):
                os.eventfd_read(self._from_host)
        except (OSError, ValueError) as e:
            error = ChannelError(f"channel doorbell failed: {e}")
        finally:
            self._lock.acquire()
            self._reading = False
            self._progress.notify_all()   # even on an interrupt: another waiter takes over the doorbell
        try:
            if error is None and self._load_word(OFF_HOST_CLOSED):
                error = ChannelError("the host closed the channel")
            if error is None:
                self._drain_locked()
        except (OSError, ValueError) as e:
            error = ChannelError(f"channel drain failed: {e}")
        if error is not None:
            self._fail_all_locked(error)

    def _doorbell_rings_by(self, deadline):
        """Whether the host rings before the deadline (then reading the doorbell does not block: this thread is its
        only reader)."""
        poller = select.poll()
        poller.register(self._from_host, select.POLLIN)
        return bool(poller.poll(max(0, int((deadline - time.monotonic()) * 1000) + 1)))

    def _drain_locked(self):
        releases = []
        tail = self._load_word(OFF_CMP_TAIL)
        while self._cmp_head != tail:
            index = self._cmp_head & (self._cmp_entries - 1)
            rec = REC.unpack_from(self._mm, self._cmp_off + index * RECORD_SIZE)
            self._cmp_head = (self._cmp_head + 1) & 0xFFFFFFFF
            self._on_completion(rec, releases)
        self._store_word(OFF_CMP_HEAD, self._cmp_head)
        if self._load_word(OFF_HOST_WANTS_CMP):
            self._store_word(OFF_HOST_WANTS_CMP, 0)
            os.eventfd_write(self._to_host, 1)
        while self._abandoned:
            self._abandoned.pop()._close_locked(releases)
        for slot in releases:
            self._submit_locked((0, OP_RELEASE, 0, 0, 0, 0, 0, 0, slot, 0))
            self._unrung = True

    def _close_abandoned(self):
        releases = []
        with self._lock:
            while self._abandoned:
                self._abandoned.pop()._close_locked(releases)
        for slot in releases:
            self._release(slot)

    def _on_completion(self, rec, releases):
        rid, op = rec[0], rec[1]
        call = self._pending.get(rid)
        if call is None:
            if rec[8] != NO_SLOT:
                releases.append(rec[8])
            return
        if op == OP_DATA_ACK:
            if rec[4] in call.extents:
                call.extents.remove(rec[4])
                self._free_extents.append(rec[4])
            return
        if op != OP_DATA:
            call.first = rec
            self._finish_request(call)
        if call.discard:
            if rec[8] != NO_SLOT:
                releases.append(rec[8])
            if not rec[2] & FLAG_MORE:
                del self._pending[rid]
            return
        call.chunks.append(rec)

    def release_free_extents(self):
        """Gives back the pages of the request extents written since their last release and free now (MADV_REMOVE on
        the shared region: freed for the host too, read as zeros next time); returns how many. For an idle instance:
        the extents it writes next fault their pages in again. Under the lock, so no extent is taken meanwhile."""
        with self._lock:
            if not self._releasable:
                return 0
            released = 0
            for offset in [o for o in self._free_extents if o in self._written_extents]:
                try:
                    self._mm.madvise(mmap.MADV_REMOVE, offset, self.chunk_size)
                except OSError:
                    self._releasable = False
                    break
                self._written_extents.discard(offset)
                released += 1
            return released

    def _finish_request(self, call):
        # The host's first completion means it has finished reading every request chunk.
        call.done = True
        self._free_extents.extend(call.extents)
        call.extents.clear()

    def _forget(self, call):
        with self._lock:
            self._pending.pop(call.rid, None)

    def _discard_rest(self, call, releases):
        """Releases queued chunks and those still to come (caller holds the lock)."""
        for rec in call.chunks:
            if rec[8] != NO_SLOT:
                releases.append(rec[8])
        last_seen = any(not r[2] & FLAG_MORE for r in call.chunks)
        call.chunks.clear()
        if last_seen or call.error is not None:
            self._pending.pop(call.rid, None)
        else:
            call.discard = True

    def _check_open(self):
        if self._closed is not None:
            raise self._closed

    def _fail_all(self, error):
        with self._lock:
            self._fail_all_locked(error)
            if self._reading:
                os.eventfd_write(self._from_host, 1)   # wake the thread reading the doorbell: it sees the error

    def _fail_all_locked(self, error):
        if self._closed is None:
            self._closed = error
        for call in self._pending.values():
            call.error = error
        self._progress.notify_all()

    def slot_view(self, rec):
        offset, length = rec[4], rec[5]
        return memoryview(self._mm)[offset:offset + length]


def _body_source(body):
    """(memoryview or None, file object or None, total length)."""
    if body is None:
        return None, None, 0
    if isinstance(body, str):
        body = body.encode()
    if isinstance(body, (bytes, bytearray, memoryview)):
        view = memoryview(body).cast("B")
        return view, None, len(view)
    if hasattr(body, "readinto") or hasattr(body, "read"):
        try:
            start = body.tell()
            end = body.seek(0, os.SEEK_END)
            body.seek(start)
            if hasattr(body, "readinto"):
                return None, body, end - start
        except (AttributeError, OSError, ValueError):
            pass
        data = body.read()   # unseekable or readinto-less: its length is unknown until read
        if isinstance(data, str):
            data = data.encode()
        view = memoryview(data).cast("B")
        return view, None, len(view)
    raise TypeError(f"request body must be bytes-like or a binary file object, not {type(body).__name__}")
