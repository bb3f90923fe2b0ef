# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""botocore.endpoint's Endpoint, for instrumentation that patches it beside BaseClient._make_api_call: the AWS X-Ray
SDK wraps ``Endpoint._encode_headers`` to put its call's trace header on each request.

The own and model-read clients pass each request's headers through ``_encode_headers`` once, before sending them over
the channel, so such a header is sent as botocore would send it (docs/frontend.md, "Tracers"). S3's fast path sends no
headers to pass (the backend talks to storage). Newer X-Ray SDKs wrap ``prepare_request`` instead, which the stand-in
does not call: their header is not sent.
"""


class Endpoint:
    """Where botocore encodes a request's headers; a tracer's wrapper may add to them."""

    def _encode_headers(self, headers):
        return headers

    def prepare_request(self, request):
        """What newer X-Ray SDKs wrap (a patch must find it); the stand-in prepares no HTTP request, so it is not
        called and their trace header is not sent."""
        return request
