# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the secretsmanager model (2017-10-17, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py secretsmanager GetSecretValue
Shapes: (type, ...): structure (required, members as (name, shape[, wire name])), list (member, min,
flattened, member name), map (key, value, flattened, key name, value name), string/integer/long/double (min),
timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'secretsmanager'
PROTOCOL = 'json'
TARGET_PREFIX = 'secretsmanager'
JSON_VERSION = '1.1'
API_VERSION = '2017-10-17'
ENDPOINT_PREFIX = 'secretsmanager'

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'GetSecretValue': ('GetSecretValueRequest', 'GetSecretValueResponse', (), None),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'DecryptionFailure',
    'EncryptionFailure',
    'InternalServiceError',
    'InvalidNextTokenException',
    'InvalidParameterException',
    'InvalidRequestException',
    'LimitExceededException',
    'MalformedPolicyDocumentException',
    'PreconditionNotMetException',
    'PublicPolicyException',
    'ResourceExistsException',
    'ResourceNotFoundException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'CreatedDateType': ('timestamp',),
    'DecryptionFailure': ('structure', (), (('Message', 'ErrorMessage'),)),
    'EncryptionFailure': ('structure', (), (('Message', 'ErrorMessage'),)),
    'ErrorMessage': ('string', None),
    'GetSecretValueRequest': ('structure', ('SecretId',), (('SecretId', 'SecretIdType'), ('VersionId', 'SecretVersionIdType'), ('VersionStage', 'SecretVersionStageType'))),
    'GetSecretValueResponse': ('structure', (), (('ARN', 'SecretARNType'), ('Name', 'SecretNameType'), ('VersionId', 'SecretVersionIdType'), ('SecretBinary', 'SecretBinaryType'), ('SecretString', 'SecretStringType'), ('VersionStages', 'SecretVersionStagesType'), ('CreatedDate', 'CreatedDateType'))),
    'InternalServiceError': ('structure', (), (('Message', 'ErrorMessage'),)),
    'InvalidNextTokenException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'InvalidParameterException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'InvalidRequestException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'LimitExceededException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'MalformedPolicyDocumentException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'PreconditionNotMetException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'PublicPolicyException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'ResourceExistsException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'ResourceNotFoundException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'SecretARNType': ('string', 20),
    'SecretBinaryType': ('blob',),
    'SecretIdType': ('string', 1),
    'SecretNameType': ('string', 1),
    'SecretStringType': ('string', 0),
    'SecretVersionIdType': ('string', 32),
    'SecretVersionStageType': ('string', 1),
    'SecretVersionStagesType': ('list', 'SecretVersionStageType', 1, False, None),
}
