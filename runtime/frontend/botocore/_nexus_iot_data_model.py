# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the iot-data model (2015-05-28, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py iot-data Publish,GetThingShadow,UpdateThingShadow
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'iot-data'
PROTOCOL = 'rest-json'
TARGET_PREFIX = None
JSON_VERSION = None
API_VERSION = '2015-05-28'
ENDPOINT_PREFIX = 'data-ats.iot'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2015-05-28', 'endpointPrefix': 'data-ats.iot', 'protocol': 'rest-json', 'serviceFullName': 'AWS IoT Data Plane', 'serviceId': 'IoT Data Plane', 'signatureVersion': 'v4', 'signingName': 'iotdata', 'uid': 'iot-data-2015-05-28'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'Publish': ('PublishRequest', None, (), None),
    'GetThingShadow': ('GetThingShadowRequest', 'GetThingShadowResponse', (), None),
    'UpdateThingShadow': ('UpdateThingShadowRequest', 'UpdateThingShadowResponse', (), None),
}

# Operation -> (HTTP method, request URI template).
HTTP = {
    'Publish': ('POST', '/topics/{topic}'),
    'GetThingShadow': ('GET', '/things/{thingName}/shadow'),
    'UpdateThingShadow': ('POST', '/things/{thingName}/shadow'),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'ConflictException',
    'InternalFailureException',
    'InvalidRequestException',
    'MethodNotAllowedException',
    'RequestEntityTooLargeException',
    'ResourceNotFoundException',
    'ServiceUnavailableException',
    'ThrottlingException',
    'UnauthorizedException',
    'UnsupportedDocumentEncodingException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'ConflictException': ('structure', (), (('message', 'errorMessage'),)),
    'ContentType': ('string', None),
    'CorrelationData': ('string', None),
    'GetThingShadowRequest': ('structure', ('thingName',), (('thingName', 'ThingName', 'thingName', 'uri'), ('shadowName', 'ShadowName', 'name', 'querystring'))),
    'GetThingShadowResponse': ('structure', (), (('payload', 'JsonDocument'),), 'payload'),
    'InternalFailureException': ('structure', (), (('message', 'errorMessage'),)),
    'InvalidRequestException': ('structure', (), (('message', 'errorMessage'),)),
    'JsonDocument': ('blob',),
    'MessageExpiry': ('long', None),
    'MethodNotAllowedException': ('structure', (), (('message', 'errorMessage'),)),
    'Payload': ('blob',),
    'PayloadFormatIndicator': ('string', None),
    'PublishRequest': ('structure', ('topic',), (('topic', 'Topic', 'topic', 'uri'), ('qos', 'Qos', 'qos', 'querystring'), ('retain', 'Retain', 'retain', 'querystring'), ('payload', 'Payload'), ('userProperties', 'UserProperties', 'x-amz-mqtt5-user-properties', 'header', True), ('payloadFormatIndicator', 'PayloadFormatIndicator', 'x-amz-mqtt5-payload-format-indicator', 'header'), ('contentType', 'ContentType', 'contentType', 'querystring'), ('responseTopic', 'ResponseTopic', 'responseTopic', 'querystring'), ('correlationData', 'CorrelationData', 'x-amz-mqtt5-correlation-data', 'header'), ('messageExpiry', 'MessageExpiry', 'messageExpiry', 'querystring')), 'payload'),
    'Qos': ('integer', 0),
    'RequestEntityTooLargeException': ('structure', (), (('message', 'errorMessage'),)),
    'ResourceNotFoundException': ('structure', (), (('message', 'errorMessage'),)),
    'ResponseTopic': ('string', None),
    'Retain': ('boolean',),
    'ServiceUnavailableException': ('structure', (), (('message', 'errorMessage'),)),
    'ShadowName': ('string', 1),
    'ThingName': ('string', 1),
    'ThrottlingException': ('structure', (), (('message', 'errorMessage'),)),
    'Topic': ('string', None),
    'UnauthorizedException': ('structure', (), (('message', 'errorMessage'),)),
    'UnsupportedDocumentEncodingException': ('structure', (), (('message', 'errorMessage'),)),
    'UpdateThingShadowRequest': ('structure', ('thingName', 'payload'), (('thingName', 'ThingName', 'thingName', 'uri'), ('shadowName', 'ShadowName', 'name', 'querystring'), ('payload', 'JsonDocument')), 'payload'),
    'UpdateThingShadowResponse': ('structure', (), (('payload', 'JsonDocument'),), 'payload'),
    'UserProperties': ('string', None),
    'errorMessage': ('string', None),
}
