# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the stepfunctions model (2016-11-23, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py stepfunctions StartExecution,SendTaskSuccess,SendTaskFailure,SendTaskHeartbeat,DescribeExecution
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'stepfunctions'
PROTOCOL = 'json'
TARGET_PREFIX = 'AWSStepFunctions'
JSON_VERSION = '1.0'
API_VERSION = '2016-11-23'
ENDPOINT_PREFIX = 'states'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2016-11-23', 'endpointPrefix': 'states', 'jsonVersion': '1.0', 'protocol': 'json', 'serviceAbbreviation': 'AWS SFN', 'serviceFullName': 'AWS Step Functions', 'serviceId': 'SFN', 'signatureVersion': 'v4', 'targetPrefix': 'AWSStepFunctions', 'uid': 'states-2016-11-23'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'StartExecution': ('StartExecutionInput', 'StartExecutionOutput', (), None),
    'SendTaskSuccess': ('SendTaskSuccessInput', 'SendTaskSuccessOutput', (), None),
    'SendTaskFailure': ('SendTaskFailureInput', 'SendTaskFailureOutput', (), None),
    'SendTaskHeartbeat': ('SendTaskHeartbeatInput', 'SendTaskHeartbeatOutput', (), None),
    'DescribeExecution': ('DescribeExecutionInput', 'DescribeExecutionOutput', (), None),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'ActivityDoesNotExist',
    'ActivityLimitExceeded',
    'ActivityWorkerLimitExceeded',
    'ExecutionAlreadyExists',
    'ExecutionDoesNotExist',
    'ExecutionLimitExceeded',
    'InvalidArn',
    'InvalidDefinition',
    'InvalidExecutionInput',
    'InvalidLoggingConfiguration',
    'InvalidName',
    'InvalidOutput',
    'InvalidToken',
    'InvalidTracingConfiguration',
    'MissingRequiredParameter',
    'ResourceNotFound',
    'StateMachineAlreadyExists',
    'StateMachineDeleting',
    'StateMachineDoesNotExist',
    'StateMachineLimitExceeded',
    'StateMachineTypeNotSupported',
    'TaskDoesNotExist',
    'TaskTimedOut',
    'TooManyTags',
    'ValidationException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'ActivityDoesNotExist': ('structure', (), (('message', 'ErrorMessage'),)),
    'ActivityLimitExceeded': ('structure', (), (('message', 'ErrorMessage'),)),
    'ActivityWorkerLimitExceeded': ('structure', (), (('message', 'ErrorMessage'),)),
    'Arn': ('string', 1),
    'CloudWatchEventsExecutionDataDetails': ('structure', (), (('included', 'includedDetails'),)),
    'DescribeExecutionInput': ('structure', ('executionArn',), (('executionArn', 'Arn'),)),
    'DescribeExecutionOutput': ('structure', ('executionArn', 'stateMachineArn', 'status', 'startDate'), (('executionArn', 'Arn'), ('stateMachineArn', 'Arn'), ('name', 'Name'), ('status', 'ExecutionStatus'), ('startDate', 'Timestamp'), ('stopDate', 'Timestamp'), ('input', 'SensitiveData'), ('inputDetails', 'CloudWatchEventsExecutionDataDetails'), ('output', 'SensitiveData'), ('outputDetails', 'CloudWatchEventsExecutionDataDetails'), ('traceHeader', 'TraceHeader'), ('mapRunArn', 'LongArn'), ('error', 'SensitiveError'), ('cause', 'SensitiveCause'))),
    'ErrorMessage': ('string', None),
    'ExecutionAlreadyExists': ('structure', (), (('message', 'ErrorMessage'),)),
    'ExecutionDoesNotExist': ('structure', (), (('message', 'ErrorMessage'),)),
    'ExecutionLimitExceeded': ('structure', (), (('message', 'ErrorMessage'),)),
    'ExecutionStatus': ('string', None),
    'InvalidArn': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidDefinition': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidExecutionInput': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidLoggingConfiguration': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidName': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidOutput': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidToken': ('structure', (), (('message', 'ErrorMessage'),)),
    'InvalidTracingConfiguration': ('structure', (), (('message', 'ErrorMessage'),)),
    'LongArn': ('string', 1),
    'MissingRequiredParameter': ('structure', (), (('message', 'ErrorMessage'),)),
    'Name': ('string', 1),
    'ResourceNotFound': ('structure', (), (('message', 'ErrorMessage'), ('resourceName', 'Arn'))),
    'SendTaskFailureInput': ('structure', ('taskToken',), (('taskToken', 'TaskToken'), ('error', 'SensitiveError'), ('cause', 'SensitiveCause'))),
    'SendTaskFailureOutput': ('structure', (), ()),
    'SendTaskHeartbeatInput': ('structure', ('taskToken',), (('taskToken', 'TaskToken'),)),
    'SendTaskHeartbeatOutput': ('structure', (), ()),
    'SendTaskSuccessInput': ('structure', ('taskToken', 'output'), (('taskToken', 'TaskToken'), ('output', 'SensitiveData'))),
    'SendTaskSuccessOutput': ('structure', (), ()),
    'SensitiveCause': ('string', 0),
    'SensitiveData': ('string', None),
    'SensitiveError': ('string', 0),
    'StartExecutionInput': ('structure', ('stateMachineArn',), (('stateMachineArn', 'Arn'), ('name', 'Name'), ('input', 'SensitiveData'), ('traceHeader', 'TraceHeader'))),
    'StartExecutionOutput': ('structure', ('executionArn', 'startDate'), (('executionArn', 'Arn'), ('startDate', 'Timestamp'))),
    'StateMachineAlreadyExists': ('structure', (), (('message', 'ErrorMessage'),)),
    'StateMachineDeleting': ('structure', (), (('message', 'ErrorMessage'),)),
    'StateMachineDoesNotExist': ('structure', (), (('message', 'ErrorMessage'),)),
    'StateMachineLimitExceeded': ('structure', (), (('message', 'ErrorMessage'),)),
    'StateMachineTypeNotSupported': ('structure', (), (('message', 'ErrorMessage'),)),
    'TaskDoesNotExist': ('structure', (), (('message', 'ErrorMessage'),)),
    'TaskTimedOut': ('structure', (), (('message', 'ErrorMessage'),)),
    'TaskToken': ('string', 1),
    'Timestamp': ('timestamp',),
    'TooManyTags': ('structure', (), (('message', 'ErrorMessage'), ('resourceName', 'Arn'))),
    'TraceHeader': ('string', 0),
    'ValidationException': ('structure', (), (('message', 'ErrorMessage'), ('reason', 'ValidationExceptionReason'))),
    'ValidationExceptionReason': ('string', None),
    'includedDetails': ('boolean',),
}
