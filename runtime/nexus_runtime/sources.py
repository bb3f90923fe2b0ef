# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Where invocations come from: the pluggable source interface."""

from collections import namedtuple

# One invocation: its id (str), deadline (epoch ms, int), the invoked function's ARN (str), the raw event JSON (bytes),
# its X-Ray trace header (str or None) and the caller's client context (JSON text, or None: the caller sent none).
# A plain namedtuple: typing.NamedTuple would import typing at every cold start.
Invocation = namedtuple("Invocation", ["request_id", "deadline_ms", "invoked_function_arn", "event", "trace_id", "client_context"],
                        defaults=(None, None))


class InvocationSource:
    """Delivers invocations and takes their outcomes. One per runtime process.

    ``next`` blocks until the node sends an invocation. ``post_response`` takes the JSON
    result bytes, ``post_error`` and ``init_error`` take a Lambda-shaped error dict
    ({"errorMessage", "errorType", "stackTrace", ...}).
    """

    def next(self) -> Invocation:
        raise NotImplementedError

    def post_response(self, request_id: str, body: bytes) -> None:
        raise NotImplementedError

    def post_error(self, request_id: str, error: dict) -> None:
        raise NotImplementedError

    def init_error(self, error: dict) -> None:
        raise NotImplementedError

    def release_idle_memory(self) -> None:
        """The instance is idle: give back memory held only for invocations. Nothing to give back by default."""
