# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the firehose model (2015-08-04, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py firehose PutRecord,PutRecordBatch
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'firehose'
PROTOCOL = 'json'
TARGET_PREFIX = 'Firehose_20150804'
JSON_VERSION = '1.1'
API_VERSION = '2015-08-04'
ENDPOINT_PREFIX = 'firehose'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2015-08-04', 'endpointPrefix': 'firehose', 'jsonVersion': '1.1', 'protocol': 'json', 'serviceAbbreviation': 'Firehose', 'serviceFullName': 'Amazon Kinesis Firehose', 'serviceId': 'Firehose', 'signatureVersion': 'v4', 'targetPrefix': 'Firehose_20150804', 'uid': 'firehose-2015-08-04'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'PutRecord': ('PutRecordInput', 'PutRecordOutput', (), None),
    'PutRecordBatch': ('PutRecordBatchInput', 'PutRecordBatchOutput', (), None),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'ConcurrentModificationException',
    'InvalidArgumentException',
    'InvalidKMSResourceException',
    'LimitExceededException',
    'ResourceInUseException',
    'ResourceNotFoundException',
    'ServiceUnavailableException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'BooleanObject': ('boolean',),
    'ConcurrentModificationException': ('structure', (), (('message', 'ErrorMessage'),)),
    'Data': ('blob',),
    'DeliveryStreamName': ('string', 1),
    'ErrorCode': ('string', None),
    'ErrorMessage': ('string', None),
    'InvalidArgumentException': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidKMSResourceException': ('structure', (), (('code', 'ErrorCode'), ('message', 'ErrorMessage'))),
    'LimitExceededException': ('structure', (), (('message', 'ErrorMessage'),)),
    'NonNegativeIntegerObject': ('integer', 0),
    'PutRecordBatchInput': ('structure', ('DeliveryStreamName', 'Records'), (('DeliveryStreamName', 'DeliveryStreamName'), ('Records', 'PutRecordBatchRequestEntryList'))),
    'PutRecordBatchOutput': ('structure', ('FailedPutCount', 'RequestResponses'), (('FailedPutCount', 'NonNegativeIntegerObject'), ('Encrypted', 'BooleanObject'), ('RequestResponses', 'PutRecordBatchResponseEntryList'))),
    'PutRecordBatchRequestEntryList': ('list', 'Record', 1, False, None),
    'PutRecordBatchResponseEntry': ('structure', (), (('RecordId', 'PutResponseRecordId'), ('ErrorCode', 'ErrorCode'), ('ErrorMessage', 'ErrorMessage'))),
    'PutRecordBatchResponseEntryList': ('list', 'PutRecordBatchResponseEntry', 1, False, None),
    'PutRecordInput': ('structure', ('DeliveryStreamName', 'Record'), (('DeliveryStreamName', 'DeliveryStreamName'), ('Record', 'Record'))),
    'PutRecordOutput': ('structure', ('RecordId',), (('RecordId', 'PutResponseRecordId'), ('Encrypted', 'BooleanObject'))),
    'PutResponseRecordId': ('string', 1),
    'Record': ('structure', ('Data',), (('Data', 'Data'),)),
    'ResourceInUseException': ('structure', (), (('message', 'ErrorMessage'),)),
    'ResourceNotFoundException': ('structure', (), (('message', 'ErrorMessage'),)),
    'ServiceUnavailableException': ('structure', (), (('message', 'ErrorMessage'),)),
}
