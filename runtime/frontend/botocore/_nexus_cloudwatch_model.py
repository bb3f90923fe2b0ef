# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the cloudwatch model (2010-08-01, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py cloudwatch PutMetricData
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'cloudwatch'
PROTOCOL = 'query'
TARGET_PREFIX = None
JSON_VERSION = None
API_VERSION = '2010-08-01'
ENDPOINT_PREFIX = 'monitoring'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2010-08-01', 'endpointPrefix': 'monitoring', 'protocol': 'query', 'serviceAbbreviation': 'CloudWatch', 'serviceFullName': 'Amazon CloudWatch', 'serviceId': 'CloudWatch', 'signatureVersion': 'v4', 'uid': 'monitoring-2010-08-01', 'xmlNamespace': 'http://monitoring.amazonaws.com/doc/2010-08-01/'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'PutMetricData': ('PutMetricDataInput', None, (), None),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'ConcurrentModificationException',
    'DashboardInvalidInputError',
    'DashboardNotFoundError',
    'InternalServiceFault',
    'InvalidFormatFault',
    'InvalidNextToken',
    'InvalidParameterCombinationException',
    'InvalidParameterValueException',
    'LimitExceededException',
    'LimitExceededFault',
    'MissingRequiredParameterException',
    'ResourceNotFound',
    'ResourceNotFoundException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {'InvalidParameterInput': 'DashboardInvalidInputError', 'ResourceNotFound': 'DashboardNotFoundError', 'InternalServiceError': 'InternalServiceFault', 'InvalidFormat': 'InvalidFormatFault', 'InvalidParameterCombination': 'InvalidParameterCombinationException', 'InvalidParameterValue': 'InvalidParameterValueException', 'LimitExceeded': 'LimitExceededFault', 'MissingParameter': 'MissingRequiredParameterException'}

SHAPES = {
    'AwsQueryErrorMessage': ('string', None),
    'ConcurrentModificationException': ('structure', (), ()),
    'Counts': ('list', 'DatapointValue', None, False, None),
    'DashboardErrorMessage': ('string', None),
    'DashboardInvalidInputError': ('structure', (), (('message', 'DashboardErrorMessage'), ('dashboardValidationMessages', 'DashboardValidationMessages'))),
    'DashboardNotFoundError': ('structure', (), (('message', 'DashboardErrorMessage'),)),
    'DashboardValidationMessage': ('structure', (), (('DataPath', 'DataPath'), ('Message', 'Message'))),
    'DashboardValidationMessages': ('list', 'DashboardValidationMessage', None, False, None),
    'DataPath': ('string', None),
    'DatapointValue': ('double', None),
    'Dimension': ('structure', ('Name', 'Value'), (('Name', 'DimensionName'), ('Value', 'DimensionValue'))),
    'DimensionName': ('string', 1),
    'DimensionValue': ('string', 1),
    'Dimensions': ('list', 'Dimension', None, False, None),
    'ErrorMessage': ('string', 1),
    'FaultDescription': ('string', None),
    'InternalServiceFault': ('structure', (), (('Message', 'FaultDescription'),)),
    'InvalidFormatFault': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidNextToken': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidParameterCombinationException': ('structure', (), (('message', 'AwsQueryErrorMessage'),)),
    'InvalidParameterValueException': ('structure', (), (('message', 'AwsQueryErrorMessage'),)),
    'LimitExceededException': ('structure', (), ()),
    'LimitExceededFault': ('structure', (), (('message', 'ErrorMessage'),)),
    'Message': ('string', None),
    'MetricData': ('list', 'MetricDatum', None, False, None),
    'MetricDatum': ('structure', ('MetricName',), (('MetricName', 'MetricName'), ('Dimensions', 'Dimensions'), ('Timestamp', 'Timestamp'), ('Value', 'DatapointValue'), ('StatisticValues', 'StatisticSet'), ('Values', 'Values'), ('Counts', 'Counts'), ('Unit', 'StandardUnit'), ('StorageResolution', 'StorageResolution'))),
    'MetricName': ('string', 1),
    'MissingRequiredParameterException': ('structure', (), (('message', 'AwsQueryErrorMessage'),)),
    'Namespace': ('string', 1),
    'PutMetricDataInput': ('structure', ('Namespace', 'MetricData'), (('Namespace', 'Namespace'), ('MetricData', 'MetricData'))),
    'ResourceId': ('string', None),
    'ResourceNotFound': ('structure', (), (('message', 'ErrorMessage'),)),
    'ResourceNotFoundException': ('structure', (), (('ResourceType', 'ResourceType'), ('ResourceId', 'ResourceId'))),
    'ResourceType': ('string', None),
    'StandardUnit': ('string', None),
    'StatisticSet': ('structure', ('SampleCount', 'Sum', 'Minimum', 'Maximum'), (('SampleCount', 'DatapointValue'), ('Sum', 'DatapointValue'), ('Minimum', 'DatapointValue'), ('Maximum', 'DatapointValue'))),
    'StorageResolution': ('integer', 1),
    'Timestamp': ('timestamp',),
    'Values': ('list', 'DatapointValue', None, False, None),
}
