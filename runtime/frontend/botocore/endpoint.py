# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""botocore.endpoint's Endpoint, for instrumentation that patches it beside BaseClient._make_api_call to put its trace
header on each request: OpenTelemetry and newer X-Ray SDKs wrap ``Endpoint.prepare_request`` (they set
``request.headers``), the X-Ray SDK as Debian packages it wraps ``Endpoint._encode_headers``.

The own and model-read clients pass each request through ``prepare_request`` once before sending it over the channel,
which passes its headers through ``_encode_headers`` as botocore's does, so such a header is sent as botocore would
send it (docs/frontend.md, "Tracers"). S3's fast path sends no headers to pass (the backend talks to storage).
"""


class PreparedRequest:
    """What a tracer's wrapper of prepare_request reads and changes: the request's method, URL path and headers."""

    def __init__(self, method, url, headers):
        self.method = method
        self.url = url
        self.headers = headers


class Endpoint:
    """Where botocore prepares a request and encodes its headers; a tracer's wrapper may add to them."""

    def prepare_request(self, request):
        self._encode_headers(request.headers)
        return request

    def _encode_headers(self, headers):
        return headers
