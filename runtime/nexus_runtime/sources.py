# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Where invocations come from: the pluggable source interface."""

from typing import NamedTuple


class Invocation(NamedTuple):
    """One invocation: its id, deadline (epoch ms), the invoked function's ARN and the raw event JSON."""

    request_id: str
    deadline_ms: int
    invoked_function_arn: str
    event: bytes


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
