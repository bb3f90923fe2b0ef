# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""botocore.endpoint's Endpoint, for instrumentation that patches it beside BaseClient._make_api_call (AWS X-Ray wraps
``Endpoint._encode_headers`` or ``Endpoint.prepare_request`` to add its trace header to each HTTP request).

The stand-in sends no HTTP request: its calls go over the Nexus channel, so nothing passes through these methods and
what such a wrapper would add is not sent. A call of a function carries the invocation's trace (``_X_AMZN_TRACE_ID``),
as botocore's own recursion detection adds it (docs/frontend.md, "Tracers").
"""


class Endpoint:
    """What instrumentation names when it patches botocore's HTTP layer; never called by the stand-in."""

    def _encode_headers(self, headers):
        return headers

    def prepare_request(self, request):
        return request
