# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the events model (2015-10-07, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py events PutEvents
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'events'
PROTOCOL = 'json'
TARGET_PREFIX = 'AWSEvents'
JSON_VERSION = '1.1'
API_VERSION = '2015-10-07'
ENDPOINT_PREFIX = 'events'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2015-10-07', 'endpointPrefix': 'events', 'jsonVersion': '1.1', 'protocol': 'json', 'serviceFullName': 'Amazon EventBridge', 'serviceId': 'EventBridge', 'signatureVersion': 'v4', 'targetPrefix': 'AWSEvents', 'uid': 'eventbridge-2015-10-07'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'PutEvents': ('PutEventsRequest', 'PutEventsResponse', (), None),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {'PutEvents': ('EndpointId',)}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'ConcurrentModificationException',
    'IllegalStatusException',
    'InternalException',
    'InvalidEventPatternException',
    'InvalidStateException',
    'LimitExceededException',
    'ManagedRuleException',
    'OperationDisabledException',
    'PolicyLengthExceededException',
    'ResourceAlreadyExistsException',
    'ResourceNotFoundException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'ConcurrentModificationException': ('structure', (), ()),
    'EndpointId': ('string', 1),
    'ErrorCode': ('string', None),
    'ErrorMessage': ('string', None),
    'EventId': ('string', None),
    'EventResource': ('string', None),
    'EventResourceList': ('list', 'EventResource', None, False, None),
    'EventTime': ('timestamp',),
    'IllegalStatusException': ('structure', (), ()),
    'Integer': ('integer', None),
    'InternalException': ('structure', (), ()),
    'InvalidEventPatternException': ('structure', (), ()),
    'InvalidStateException': ('structure', (), ()),
    'LimitExceededException': ('structure', (), ()),
    'ManagedRuleException': ('structure', (), ()),
    'NonPartnerEventBusNameOrArn': ('string', 1),
    'OperationDisabledException': ('structure', (), ()),
    'PolicyLengthExceededException': ('structure', (), ()),
    'PutEventsRequest': ('structure', ('Entries',), (('Entries', 'PutEventsRequestEntryList'), ('EndpointId', 'EndpointId'))),
    'PutEventsRequestEntry': ('structure', (), (('Time', 'EventTime'), ('Source', 'String'), ('Resources', 'EventResourceList'), ('DetailType', 'String'), ('Detail', 'String'), ('EventBusName', 'NonPartnerEventBusNameOrArn'), ('TraceHeader', 'TraceHeader'))),
    'PutEventsRequestEntryList': ('list', 'PutEventsRequestEntry', 1, False, None),
    'PutEventsResponse': ('structure', (), (('FailedEntryCount', 'Integer'), ('Entries', 'PutEventsResultEntryList'))),
    'PutEventsResultEntry': ('structure', (), (('EventId', 'EventId'), ('ErrorCode', 'ErrorCode'), ('ErrorMessage', 'ErrorMessage'))),
    'PutEventsResultEntryList': ('list', 'PutEventsResultEntry', None, False, None),
    'ResourceAlreadyExistsException': ('structure', (), ()),
    'ResourceNotFoundException': ('structure', (), ()),
    'String': ('string', None),
    'TraceHeader': ('string', 1),
}
