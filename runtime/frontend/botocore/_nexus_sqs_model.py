# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the sqs model (2012-11-05, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py sqs SendMessage,SendMessageBatch,ReceiveMessage,DeleteMessage,DeleteMessageBatch,GetQueueUrl,ChangeMessageVisibility,ChangeMessageVisibilityBatch,GetQueueAttributes
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'sqs'
PROTOCOL = 'query'
TARGET_PREFIX = None
JSON_VERSION = None
API_VERSION = '2012-11-05'
ENDPOINT_PREFIX = 'sqs'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2012-11-05', 'endpointPrefix': 'sqs', 'protocol': 'query', 'serviceAbbreviation': 'Amazon SQS', 'serviceFullName': 'Amazon Simple Queue Service', 'serviceId': 'SQS', 'signatureVersion': 'v4', 'uid': 'sqs-2012-11-05', 'xmlNamespace': 'http://queue.amazonaws.com/doc/2012-11-05/'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'SendMessage': ('SendMessageRequest', 'SendMessageResult', (), 'SendMessageResult'),
    'SendMessageBatch': ('SendMessageBatchRequest', 'SendMessageBatchResult', (), 'SendMessageBatchResult'),
    'ReceiveMessage': ('ReceiveMessageRequest', 'ReceiveMessageResult', (), 'ReceiveMessageResult'),
    'DeleteMessage': ('DeleteMessageRequest', None, (), None),
    'DeleteMessageBatch': ('DeleteMessageBatchRequest', 'DeleteMessageBatchResult', (), 'DeleteMessageBatchResult'),
    'GetQueueUrl': ('GetQueueUrlRequest', 'GetQueueUrlResult', (), 'GetQueueUrlResult'),
    'ChangeMessageVisibility': ('ChangeMessageVisibilityRequest', None, (), None),
    'ChangeMessageVisibilityBatch': ('ChangeMessageVisibilityBatchRequest', 'ChangeMessageVisibilityBatchResult', (), 'ChangeMessageVisibilityBatchResult'),
    'GetQueueAttributes': ('GetQueueAttributesRequest', 'GetQueueAttributesResult', (), 'GetQueueAttributesResult'),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'BatchEntryIdsNotDistinct',
    'BatchRequestTooLong',
    'EmptyBatchRequest',
    'InvalidAttributeName',
    'InvalidBatchEntryId',
    'InvalidIdFormat',
    'InvalidMessageContents',
    'MessageNotInflight',
    'OverLimit',
    'PurgeQueueInProgress',
    'QueueDeletedRecently',
    'QueueDoesNotExist',
    'QueueNameExists',
    'ReceiptHandleIsInvalid',
    'TooManyEntriesInBatchRequest',
    'UnsupportedOperation',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {'AWS.SimpleQueueService.BatchEntryIdsNotDistinct': 'BatchEntryIdsNotDistinct', 'AWS.SimpleQueueService.BatchRequestTooLong': 'BatchRequestTooLong', 'AWS.SimpleQueueService.EmptyBatchRequest': 'EmptyBatchRequest', 'AWS.SimpleQueueService.InvalidBatchEntryId': 'InvalidBatchEntryId', 'AWS.SimpleQueueService.MessageNotInflight': 'MessageNotInflight', 'AWS.SimpleQueueService.PurgeQueueInProgress': 'PurgeQueueInProgress', 'AWS.SimpleQueueService.QueueDeletedRecently': 'QueueDeletedRecently', 'AWS.SimpleQueueService.NonExistentQueue': 'QueueDoesNotExist', 'QueueAlreadyExists': 'QueueNameExists', 'AWS.SimpleQueueService.TooManyEntriesInBatchRequest': 'TooManyEntriesInBatchRequest', 'AWS.SimpleQueueService.UnsupportedOperation': 'UnsupportedOperation'}

SHAPES = {
    'AttributeNameList': ('list', 'QueueAttributeName', None, True, 'AttributeName'),
    'BatchEntryIdsNotDistinct': ('structure', (), ()),
    'BatchRequestTooLong': ('structure', (), ()),
    'BatchResultErrorEntry': ('structure', ('Id', 'SenderFault', 'Code'), (('Id', 'String'), ('SenderFault', 'Boolean'), ('Code', 'String'), ('Message', 'String'))),
    'BatchResultErrorEntryList': ('list', 'BatchResultErrorEntry', None, True, 'BatchResultErrorEntry'),
    'Binary': ('blob',),
    'BinaryList|flattened': ('list', 'Binary', None, True, 'BinaryListValue'),
    'Boolean': ('boolean',),
    'ChangeMessageVisibilityBatchRequest': ('structure', ('QueueUrl', 'Entries'), (('QueueUrl', 'String'), ('Entries', 'ChangeMessageVisibilityBatchRequestEntryList'))),
    'ChangeMessageVisibilityBatchRequestEntry': ('structure', ('Id', 'ReceiptHandle'), (('Id', 'String'), ('ReceiptHandle', 'String'), ('VisibilityTimeout', 'Integer'))),
    'ChangeMessageVisibilityBatchRequestEntryList': ('list', 'ChangeMessageVisibilityBatchRequestEntry', None, True, 'ChangeMessageVisibilityBatchRequestEntry'),
    'ChangeMessageVisibilityBatchResult': ('structure', ('Successful', 'Failed'), (('Successful', 'ChangeMessageVisibilityBatchResultEntryList'), ('Failed', 'BatchResultErrorEntryList'))),
    'ChangeMessageVisibilityBatchResultEntry': ('structure', ('Id',), (('Id', 'String'),)),
    'ChangeMessageVisibilityBatchResultEntryList': ('list', 'ChangeMessageVisibilityBatchResultEntry', None, True, 'ChangeMessageVisibilityBatchResultEntry'),
    'ChangeMessageVisibilityRequest': ('structure', ('QueueUrl', 'ReceiptHandle', 'VisibilityTimeout'), (('QueueUrl', 'String'), ('ReceiptHandle', 'String'), ('VisibilityTimeout', 'Integer'))),
    'DeleteMessageBatchRequest': ('structure', ('QueueUrl', 'Entries'), (('QueueUrl', 'String'), ('Entries', 'DeleteMessageBatchRequestEntryList'))),
    'DeleteMessageBatchRequestEntry': ('structure', ('Id', 'ReceiptHandle'), (('Id', 'String'), ('ReceiptHandle', 'String'))),
    'DeleteMessageBatchRequestEntryList': ('list', 'DeleteMessageBatchRequestEntry', None, True, 'DeleteMessageBatchRequestEntry'),
    'DeleteMessageBatchResult': ('structure', ('Successful', 'Failed'), (('Successful', 'DeleteMessageBatchResultEntryList'), ('Failed', 'BatchResultErrorEntryList'))),
    'DeleteMessageBatchResultEntry': ('structure', ('Id',), (('Id', 'String'),)),
    'DeleteMessageBatchResultEntryList': ('list', 'DeleteMessageBatchResultEntry', None, True, 'DeleteMessageBatchResultEntry'),
    'DeleteMessageRequest': ('structure', ('QueueUrl', 'ReceiptHandle'), (('QueueUrl', 'String'), ('ReceiptHandle', 'String'))),
    'EmptyBatchRequest': ('structure', (), ()),
    'GetQueueAttributesRequest': ('structure', ('QueueUrl',), (('QueueUrl', 'String'), ('AttributeNames', 'AttributeNameList'))),
    'GetQueueAttributesResult': ('structure', (), (('Attributes', 'QueueAttributeMap', 'Attribute'),)),
    'GetQueueUrlRequest': ('structure', ('QueueName',), (('QueueName', 'String'), ('QueueOwnerAWSAccountId', 'String'))),
    'GetQueueUrlResult': ('structure', (), (('QueueUrl', 'String'),)),
    'Integer': ('integer', None),
    'InvalidAttributeName': ('structure', (), ()),
    'InvalidBatchEntryId': ('structure', (), ()),
    'InvalidIdFormat': ('structure', (), ()),
    'InvalidMessageContents': ('structure', (), ()),
    'Message': ('structure', (), (('MessageId', 'String'), ('ReceiptHandle', 'String'), ('MD5OfBody', 'String'), ('Body', 'String'), ('Attributes', 'MessageSystemAttributeMap', 'Attribute'), ('MD5OfMessageAttributes', 'String'), ('MessageAttributes', 'MessageBodyAttributeMap', 'MessageAttribute'))),
    'MessageAttributeName': ('string', None),
    'MessageAttributeNameList': ('list', 'MessageAttributeName', None, True, 'MessageAttributeName'),
    'MessageAttributeValue': ('structure', ('DataType',), (('StringValue', 'String'), ('BinaryValue', 'Binary'), ('StringListValues', 'StringList|flattened', 'StringListValue'), ('BinaryListValues', 'BinaryList|flattened', 'BinaryListValue'), ('DataType', 'String'))),
    'MessageBodyAttributeMap': ('map', 'String', 'MessageAttributeValue', True, 'Name', 'Value'),
    'MessageBodySystemAttributeMap': ('map', 'MessageSystemAttributeNameForSends', 'MessageSystemAttributeValue', True, 'Name', 'Value'),
    'MessageList': ('list', 'Message', None, True, 'Message'),
    'MessageNotInflight': ('structure', (), ()),
    'MessageSystemAttributeMap': ('map', 'MessageSystemAttributeName', 'String', True, 'Name', 'Value'),
    'MessageSystemAttributeName': ('string', None),
    'MessageSystemAttributeNameForSends': ('string', None),
    'MessageSystemAttributeValue': ('structure', ('DataType',), (('StringValue', 'String'), ('BinaryValue', 'Binary'), ('StringListValues', 'StringList|flattened', 'StringListValue'), ('BinaryListValues', 'BinaryList|flattened', 'BinaryListValue'), ('DataType', 'String'))),
    'OverLimit': ('structure', (), ()),
    'PurgeQueueInProgress': ('structure', (), ()),
    'QueueAttributeMap': ('map', 'QueueAttributeName', 'String', True, 'Name', 'Value'),
    'QueueAttributeName': ('string', None),
    'QueueDeletedRecently': ('structure', (), ()),
    'QueueDoesNotExist': ('structure', (), ()),
    'QueueNameExists': ('structure', (), ()),
    'ReceiptHandleIsInvalid': ('structure', (), ()),
    'ReceiveMessageRequest': ('structure', ('QueueUrl',), (('QueueUrl', 'String'), ('AttributeNames', 'AttributeNameList'), ('MessageAttributeNames', 'MessageAttributeNameList'), ('MaxNumberOfMessages', 'Integer'), ('VisibilityTimeout', 'Integer'), ('WaitTimeSeconds', 'Integer'), ('ReceiveRequestAttemptId', 'String'))),
    'ReceiveMessageResult': ('structure', (), (('Messages', 'MessageList'),)),
    'SendMessageBatchRequest': ('structure', ('QueueUrl', 'Entries'), (('QueueUrl', 'String'), ('Entries', 'SendMessageBatchRequestEntryList'))),
    'SendMessageBatchRequestEntry': ('structure', ('Id', 'MessageBody'), (('Id', 'String'), ('MessageBody', 'String'), ('DelaySeconds', 'Integer'), ('MessageAttributes', 'MessageBodyAttributeMap', 'MessageAttribute'), ('MessageSystemAttributes', 'MessageBodySystemAttributeMap', 'MessageSystemAttribute'), ('MessageDeduplicationId', 'String'), ('MessageGroupId', 'String'))),
    'SendMessageBatchRequestEntryList': ('list', 'SendMessageBatchRequestEntry', None, True, 'SendMessageBatchRequestEntry'),
    'SendMessageBatchResult': ('structure', ('Successful', 'Failed'), (('Successful', 'SendMessageBatchResultEntryList'), ('Failed', 'BatchResultErrorEntryList'))),
    'SendMessageBatchResultEntry': ('structure', ('Id', 'MessageId', 'MD5OfMessageBody'), (('Id', 'String'), ('MessageId', 'String'), ('MD5OfMessageBody', 'String'), ('MD5OfMessageAttributes', 'String'), ('MD5OfMessageSystemAttributes', 'String'), ('SequenceNumber', 'String'))),
    'SendMessageBatchResultEntryList': ('list', 'SendMessageBatchResultEntry', None, True, 'SendMessageBatchResultEntry'),
    'SendMessageRequest': ('structure', ('QueueUrl', 'MessageBody'), (('QueueUrl', 'String'), ('MessageBody', 'String'), ('DelaySeconds', 'Integer'), ('MessageAttributes', 'MessageBodyAttributeMap', 'MessageAttribute'), ('MessageSystemAttributes', 'MessageBodySystemAttributeMap', 'MessageSystemAttribute'), ('MessageDeduplicationId', 'String'), ('MessageGroupId', 'String'))),
    'SendMessageResult': ('structure', (), (('MD5OfMessageBody', 'String'), ('MD5OfMessageAttributes', 'String'), ('MD5OfMessageSystemAttributes', 'String'), ('MessageId', 'String'), ('SequenceNumber', 'String'))),
    'String': ('string', None),
    'StringList|flattened': ('list', 'String', None, True, 'StringListValue'),
    'TooManyEntriesInBatchRequest': ('structure', (), ()),
    'UnsupportedOperation': ('structure', (), ()),
}
