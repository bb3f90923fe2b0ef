# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Nexus source: invocations arrive on the Nexus channel (package nexus_channel, beside this one in the image)."""

import nexus_channel

from nexus_runtime import restore
from nexus_runtime.sources import Invocation, InvocationSource


class ChannelSource(InvocationSource):
    """Adapts nexus_channel.InvocationSource to this runtime's Invocation shape. A microVM restored from a snapshot is
    made this instance's own (restore.apply) before the first invocation is asked for."""

    def __init__(self, inner=None):
        self._inner = inner if inner is not None else nexus_channel.InvocationSource()
        restore.apply(getattr(getattr(self._inner, "transport", None), "restore", None))

    def next(self) -> Invocation:
        invocation = self._inner.next()
        # The event may be a view over the shared region: copy it out before the handler runs (json needs bytes anyway).
        return Invocation(str(invocation.request_id), int(invocation.deadline_ms), str(invocation.function_arn or ""), bytes(invocation.event),
                          getattr(invocation, "trace_id", None), getattr(invocation, "client_context", None))

    def post_response(self, request_id: str, body: bytes) -> None:
        self._inner.post_response(request_id, body)

    def post_error(self, request_id: str, error: dict) -> None:
        self._inner.post_error(request_id, error)

    def init_error(self, error: dict) -> None:
        self._inner.init_error(error)

    def release_idle_memory(self) -> None:
        # The request area's written extents; the host gives back the response slots of an idle instance itself.
        transport = getattr(self._inner, "transport", None)
        if transport is not None:
            transport.release_free_extents()
