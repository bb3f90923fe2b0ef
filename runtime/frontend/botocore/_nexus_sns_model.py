# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the sns model (2010-03-31, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py sns Publish,PublishBatch
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'sns'
PROTOCOL = 'query'
TARGET_PREFIX = None
JSON_VERSION = None
API_VERSION = '2010-03-31'
ENDPOINT_PREFIX = 'sns'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2010-03-31', 'endpointPrefix': 'sns', 'protocol': 'query', 'serviceAbbreviation': 'Amazon SNS', 'serviceFullName': 'Amazon Simple Notification Service', 'serviceId': 'SNS', 'signatureVersion': 'v4', 'uid': 'sns-2010-03-31', 'xmlNamespace': 'http://sns.amazonaws.com/doc/2010-03-31/'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'Publish': ('PublishInput', 'PublishResponse', (), 'PublishResult'),
    'PublishBatch': ('PublishBatchInput', 'PublishBatchResponse', (), 'PublishBatchResult'),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'AuthorizationErrorException',
    'BatchEntryIdsNotDistinctException',
    'BatchRequestTooLongException',
    'ConcurrentAccessException',
    'EmptyBatchRequestException',
    'EndpointDisabledException',
    'FilterPolicyLimitExceededException',
    'InternalErrorException',
    'InvalidBatchEntryIdException',
    'InvalidParameterException',
    'InvalidParameterValueException',
    'InvalidSecurityException',
    'KMSAccessDeniedException',
    'KMSDisabledException',
    'KMSInvalidStateException',
    'KMSNotFoundException',
    'KMSOptInRequired',
    'KMSThrottlingException',
    'NotFoundException',
    'OptedOutException',
    'PlatformApplicationDisabledException',
    'ResourceNotFoundException',
    'StaleTagException',
    'SubscriptionLimitExceededException',
    'TagLimitExceededException',
    'TagPolicyException',
    'ThrottledException',
    'TooManyEntriesInBatchRequestException',
    'TopicLimitExceededException',
    'UserErrorException',
    'ValidationException',
    'VerificationException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {'AuthorizationError': 'AuthorizationErrorException', 'BatchEntryIdsNotDistinct': 'BatchEntryIdsNotDistinctException', 'BatchRequestTooLong': 'BatchRequestTooLongException', 'ConcurrentAccess': 'ConcurrentAccessException', 'EmptyBatchRequest': 'EmptyBatchRequestException', 'EndpointDisabled': 'EndpointDisabledException', 'FilterPolicyLimitExceeded': 'FilterPolicyLimitExceededException', 'InternalError': 'InternalErrorException', 'InvalidBatchEntryId': 'InvalidBatchEntryIdException', 'InvalidParameter': 'InvalidParameterException', 'ParameterValueInvalid': 'InvalidParameterValueException', 'InvalidSecurity': 'InvalidSecurityException', 'KMSAccessDenied': 'KMSAccessDeniedException', 'KMSDisabled': 'KMSDisabledException', 'KMSInvalidState': 'KMSInvalidStateException', 'KMSNotFound': 'KMSNotFoundException', 'KMSThrottling': 'KMSThrottlingException', 'NotFound': 'NotFoundException', 'OptedOut': 'OptedOutException', 'PlatformApplicationDisabled': 'PlatformApplicationDisabledException', 'ResourceNotFound': 'ResourceNotFoundException', 'StaleTag': 'StaleTagException', 'SubscriptionLimitExceeded': 'SubscriptionLimitExceededException', 'TagLimitExceeded': 'TagLimitExceededException', 'TagPolicy': 'TagPolicyException', 'Throttled': 'ThrottledException', 'TooManyEntriesInBatchRequest': 'TooManyEntriesInBatchRequestException', 'TopicLimitExceeded': 'TopicLimitExceededException', 'UserError': 'UserErrorException'}

SHAPES = {
    'AuthorizationErrorException': ('structure', (), (('message', 'string'),)),
    'BatchEntryIdsNotDistinctException': ('structure', (), (('message', 'string'),)),
    'BatchRequestTooLongException': ('structure', (), (('message', 'string'),)),
    'BatchResultErrorEntry': ('structure', ('Id', 'Code', 'SenderFault'), (('Id', 'String'), ('Code', 'String'), ('Message', 'String'), ('SenderFault', 'boolean'))),
    'BatchResultErrorEntryList': ('list', 'BatchResultErrorEntry', None, False, None),
    'Binary': ('blob',),
    'ConcurrentAccessException': ('structure', (), (('message', 'string'),)),
    'EmptyBatchRequestException': ('structure', (), (('message', 'string'),)),
    'EndpointDisabledException': ('structure', (), (('message', 'string'),)),
    'FilterPolicyLimitExceededException': ('structure', (), (('message', 'string'),)),
    'InternalErrorException': ('structure', (), (('message', 'string'),)),
    'InvalidBatchEntryIdException': ('structure', (), (('message', 'string'),)),
    'InvalidParameterException': ('structure', (), (('message', 'string'),)),
    'InvalidParameterValueException': ('structure', (), (('message', 'string'),)),
    'InvalidSecurityException': ('structure', (), (('message', 'string'),)),
    'KMSAccessDeniedException': ('structure', (), (('message', 'string'),)),
    'KMSDisabledException': ('structure', (), (('message', 'string'),)),
    'KMSInvalidStateException': ('structure', (), (('message', 'string'),)),
    'KMSNotFoundException': ('structure', (), (('message', 'string'),)),
    'KMSOptInRequired': ('structure', (), (('message', 'string'),)),
    'KMSThrottlingException': ('structure', (), (('message', 'string'),)),
    'MessageAttributeMap': ('map', 'String', 'MessageAttributeValue', False, 'Name', 'Value'),
    'MessageAttributeValue': ('structure', ('DataType',), (('DataType', 'String'), ('StringValue', 'String'), ('BinaryValue', 'Binary'))),
    'NotFoundException': ('structure', (), (('message', 'string'),)),
    'OptedOutException': ('structure', (), (('message', 'string'),)),
    'PlatformApplicationDisabledException': ('structure', (), (('message', 'string'),)),
    'PublishBatchInput': ('structure', ('TopicArn', 'PublishBatchRequestEntries'), (('TopicArn', 'topicARN'), ('PublishBatchRequestEntries', 'PublishBatchRequestEntryList'))),
    'PublishBatchRequestEntry': ('structure', ('Id', 'Message'), (('Id', 'String'), ('Message', 'message'), ('Subject', 'subject'), ('MessageStructure', 'messageStructure'), ('MessageAttributes', 'MessageAttributeMap'), ('MessageDeduplicationId', 'String'), ('MessageGroupId', 'String'))),
    'PublishBatchRequestEntryList': ('list', 'PublishBatchRequestEntry', None, False, None),
    'PublishBatchResponse': ('structure', (), (('Successful', 'PublishBatchResultEntryList'), ('Failed', 'BatchResultErrorEntryList'))),
    'PublishBatchResultEntry': ('structure', (), (('Id', 'String'), ('MessageId', 'messageId'), ('SequenceNumber', 'String'))),
    'PublishBatchResultEntryList': ('list', 'PublishBatchResultEntry', None, False, None),
    'PublishInput': ('structure', ('Message',), (('TopicArn', 'topicARN'), ('TargetArn', 'String'), ('PhoneNumber', 'String'), ('Message', 'message'), ('Subject', 'subject'), ('MessageStructure', 'messageStructure'), ('MessageAttributes', 'MessageAttributeMap'), ('MessageDeduplicationId', 'String'), ('MessageGroupId', 'String'))),
    'PublishResponse': ('structure', (), (('MessageId', 'messageId'), ('SequenceNumber', 'String'))),
    'ResourceNotFoundException': ('structure', (), (('message', 'string'),)),
    'StaleTagException': ('structure', (), (('message', 'string'),)),
    'String': ('string', None),
    'SubscriptionLimitExceededException': ('structure', (), (('message', 'string'),)),
    'TagLimitExceededException': ('structure', (), (('message', 'string'),)),
    'TagPolicyException': ('structure', (), (('message', 'string'),)),
    'ThrottledException': ('structure', (), (('message', 'string'),)),
    'TooManyEntriesInBatchRequestException': ('structure', (), (('message', 'string'),)),
    'TopicLimitExceededException': ('structure', (), (('message', 'string'),)),
    'UserErrorException': ('structure', (), (('message', 'string'),)),
    'ValidationException': ('structure', ('Message',), (('Message', 'string'),)),
    'VerificationException': ('structure', ('Message', 'Status'), (('Message', 'string'), ('Status', 'string'))),
    'boolean': ('boolean',),
    'message': ('string', None),
    'messageId': ('string', None),
    'messageStructure': ('string', None),
    'string': ('string', None),
    'subject': ('string', None),
    'topicARN': ('string', None),
}
