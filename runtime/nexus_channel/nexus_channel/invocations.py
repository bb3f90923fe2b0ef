# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Invocations as the host pushes them: the runtime's source of events."""

import time

from nexus_channel.layout import ChannelError


class Invocation:
    __slots__ = ("request_id", "deadline_ms", "function_arn", "event", "picked_up_ns", "trace_id", "client_context")

    def __init__(self, request_id, deadline_ms, function_arn, event, picked_up_ns=None, trace_id=None, client_context=None):
        self.request_id = request_id
        self.deadline_ms = deadline_ms
        self.function_arn = function_arn
        self.event = event
        self.picked_up_ns = picked_up_ns
        self.trace_id = trace_id
        self.client_context = client_context


class InvocationSource:
    """The runtime's view: next() -> Invocation, then post_response / post_error; init_error on import failure.
    A posted result also waits for the next invocation (the host pushes it into that request); next() returns it."""

    def __init__(self, transport=None):
        if transport is None:
            from nexus_channel import connect_from_env  # the package's one transport (not at import: a cycle)
            transport = connect_from_env()
        self.transport = transport
        self._next = None
        self._picked_up_ns = None

    def next(self):
        invocation, self._next = self._next, None
        if invocation is None:
            invocation = self.transport.next_invocation()
        self._picked_up_ns = invocation.picked_up_ns
        return invocation

    def post_response(self, request_id, payload):
        self._next = self.transport.post_response(request_id, payload, wait_next=True, picked_up_ns=self._picked_up_ns)

    def post_error(self, request_id, error):
        self._next = self.transport.post_error(request_id, error, wait_next=True, picked_up_ns=self._picked_up_ns)

    def init_error(self, error):
        return self.transport.init_error(error)


def invocation_from(resp, op):
    """The invocation a response carries (header RequestId, DeadlineMs, FunctionArn, TraceId, ClientContext; body the
    event)."""
    picked_up_ns = time.monotonic_ns()
    if resp.status != 200:
        resp.body.close()
        raise ChannelError(f"{op} failed: {resp.status} {resp.meta}")
    event = resp.body.read()
    resp.body.close()
    meta = resp.meta
    return Invocation(meta["RequestId"], int(meta["DeadlineMs"]), meta.get("FunctionArn", ""), event, picked_up_ns,
                      meta.get("TraceId"), meta.get("ClientContext"))
