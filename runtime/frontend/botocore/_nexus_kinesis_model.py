# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the kinesis model (2013-12-02, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py kinesis PutRecord,PutRecords
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'kinesis'
PROTOCOL = 'json'
TARGET_PREFIX = 'Kinesis_20131202'
JSON_VERSION = '1.1'
API_VERSION = '2013-12-02'
ENDPOINT_PREFIX = 'kinesis'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2013-12-02', 'endpointPrefix': 'kinesis', 'jsonVersion': '1.1', 'protocol': 'json', 'protocolSettings': {'h2': 'eventstream'}, 'serviceAbbreviation': 'Kinesis', 'serviceFullName': 'Amazon Kinesis', 'serviceId': 'Kinesis', 'signatureVersion': 'v4', 'targetPrefix': 'Kinesis_20131202', 'uid': 'kinesis-2013-12-02'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'PutRecord': ('PutRecordInput', 'PutRecordOutput', (), None),
    'PutRecords': ('PutRecordsInput', 'PutRecordsOutput', (), None),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'ExpiredIteratorException',
    'ExpiredNextTokenException',
    'InternalFailureException',
    'InvalidArgumentException',
    'KMSAccessDeniedException',
    'KMSDisabledException',
    'KMSInvalidStateException',
    'KMSNotFoundException',
    'KMSOptInRequired',
    'KMSThrottlingException',
    'LimitExceededException',
    'ProvisionedThroughputExceededException',
    'ResourceInUseException',
    'ResourceNotFoundException',
    'ValidationException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'Data': ('blob',),
    'EncryptionType': ('string', None),
    'ErrorCode': ('string', None),
    'ErrorMessage': ('string', None),
    'ExpiredIteratorException': ('structure', (), (('message', 'ErrorMessage'),)),
    'ExpiredNextTokenException': ('structure', (), (('message', 'ErrorMessage'),)),
    'HashKey': ('string', None),
    'InternalFailureException': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidArgumentException': ('structure', (), (('message', 'ErrorMessage'),)),
    'KMSAccessDeniedException': ('structure', (), (('message', 'ErrorMessage'),)),
    'KMSDisabledException': ('structure', (), (('message', 'ErrorMessage'),)),
    'KMSInvalidStateException': ('structure', (), (('message', 'ErrorMessage'),)),
    'KMSNotFoundException': ('structure', (), (('message', 'ErrorMessage'),)),
    'KMSOptInRequired': ('structure', (), (('message', 'ErrorMessage'),)),
    'KMSThrottlingException': ('structure', (), (('message', 'ErrorMessage'),)),
    'LimitExceededException': ('structure', (), (('message', 'ErrorMessage'),)),
    'PartitionKey': ('string', 1),
    'PositiveIntegerObject': ('integer', 1),
    'ProvisionedThroughputExceededException': ('structure', (), (('message', 'ErrorMessage'),)),
    'PutRecordInput': ('structure', ('StreamName', 'Data', 'PartitionKey'), (('StreamName', 'StreamName'), ('Data', 'Data'), ('PartitionKey', 'PartitionKey'), ('ExplicitHashKey', 'HashKey'), ('SequenceNumberForOrdering', 'SequenceNumber'))),
    'PutRecordOutput': ('structure', ('ShardId', 'SequenceNumber'), (('ShardId', 'ShardId'), ('SequenceNumber', 'SequenceNumber'), ('EncryptionType', 'EncryptionType'))),
    'PutRecordsInput': ('structure', ('Records', 'StreamName'), (('Records', 'PutRecordsRequestEntryList'), ('StreamName', 'StreamName'))),
    'PutRecordsOutput': ('structure', ('Records',), (('FailedRecordCount', 'PositiveIntegerObject'), ('Records', 'PutRecordsResultEntryList'), ('EncryptionType', 'EncryptionType'))),
    'PutRecordsRequestEntry': ('structure', ('Data', 'PartitionKey'), (('Data', 'Data'), ('ExplicitHashKey', 'HashKey'), ('PartitionKey', 'PartitionKey'))),
    'PutRecordsRequestEntryList': ('list', 'PutRecordsRequestEntry', 1, False, None),
    'PutRecordsResultEntry': ('structure', (), (('SequenceNumber', 'SequenceNumber'), ('ShardId', 'ShardId'), ('ErrorCode', 'ErrorCode'), ('ErrorMessage', 'ErrorMessage'))),
    'PutRecordsResultEntryList': ('list', 'PutRecordsResultEntry', 1, False, None),
    'ResourceInUseException': ('structure', (), (('message', 'ErrorMessage'),)),
    'ResourceNotFoundException': ('structure', (), (('message', 'ErrorMessage'),)),
    'SequenceNumber': ('string', None),
    'ShardId': ('string', 1),
    'StreamName': ('string', 1),
    'ValidationException': ('structure', (), (('message', 'ErrorMessage'),)),
}
