# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the apigatewaymanagementapi model (2018-11-29, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py apigatewaymanagementapi PostToConnection,GetConnection,DeleteConnection
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'apigatewaymanagementapi'
PROTOCOL = 'rest-json'
TARGET_PREFIX = None
JSON_VERSION = '1.1'
API_VERSION = '2018-11-29'
ENDPOINT_PREFIX = 'execute-api'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2018-11-29', 'endpointPrefix': 'execute-api', 'signingName': 'execute-api', 'serviceFullName': 'AmazonApiGatewayManagementApi', 'serviceId': 'ApiGatewayManagementApi', 'protocol': 'rest-json', 'jsonVersion': '1.1', 'uid': 'apigatewaymanagementapi-2018-11-29', 'signatureVersion': 'v4'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'PostToConnection': ('PostToConnectionRequest', None, (), None),
    'GetConnection': ('GetConnectionRequest', 'GetConnectionResponse', (), None),
    'DeleteConnection': ('DeleteConnectionRequest', None, (), None),
}

# Operation -> (HTTP method, request URI template).
HTTP = {
    'PostToConnection': ('POST', '/@connections/{connectionId}'),
    'GetConnection': ('GET', '/@connections/{connectionId}'),
    'DeleteConnection': ('DELETE', '/@connections/{connectionId}'),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'ForbiddenException',
    'GoneException',
    'LimitExceededException',
    'PayloadTooLargeException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'Data': ('blob',),
    'DeleteConnectionRequest': ('structure', ('ConnectionId',), (('ConnectionId', '__string', 'connectionId', 'uri'),)),
    'ForbiddenException': ('structure', (), ()),
    'GetConnectionRequest': ('structure', ('ConnectionId',), (('ConnectionId', '__string', 'connectionId', 'uri'),)),
    'GetConnectionResponse': ('structure', (), (('ConnectedAt', '__timestampIso8601', 'connectedAt'), ('Identity', 'Identity', 'identity'), ('LastActiveAt', '__timestampIso8601', 'lastActiveAt'))),
    'GoneException': ('structure', (), ()),
    'Identity': ('structure', ('SourceIp', 'UserAgent'), (('SourceIp', '__string', 'sourceIp'), ('UserAgent', '__string', 'userAgent'))),
    'LimitExceededException': ('structure', (), ()),
    'PayloadTooLargeException': ('structure', (), (('Message', '__string', 'message'),)),
    'PostToConnectionRequest': ('structure', ('ConnectionId', 'Data'), (('Data', 'Data'), ('ConnectionId', '__string', 'connectionId', 'uri')), 'Data'),
    '__string': ('string', None),
    '__timestampIso8601': ('timestamp', 'iso8601'),
}
