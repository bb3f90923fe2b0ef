# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the secretsmanager model (2017-10-17, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py secretsmanager GetSecretValue,DescribeSecret,PutSecretValue,UpdateSecretVersionStage,GetRandomPassword
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'secretsmanager'
PROTOCOL = 'json'
TARGET_PREFIX = 'secretsmanager'
JSON_VERSION = '1.1'
API_VERSION = '2017-10-17'
ENDPOINT_PREFIX = 'secretsmanager'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2017-10-17', 'endpointPrefix': 'secretsmanager', 'jsonVersion': '1.1', 'protocol': 'json', 'serviceFullName': 'AWS Secrets Manager', 'serviceId': 'Secrets Manager', 'signatureVersion': 'v4', 'signingName': 'secretsmanager', 'targetPrefix': 'secretsmanager', 'uid': 'secretsmanager-2017-10-17'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'GetSecretValue': ('GetSecretValueRequest', 'GetSecretValueResponse', (), None),
    'DescribeSecret': ('DescribeSecretRequest', 'DescribeSecretResponse', (), None),
    'PutSecretValue': ('PutSecretValueRequest', 'PutSecretValueResponse', ('ClientRequestToken',), None),
    'UpdateSecretVersionStage': ('UpdateSecretVersionStageRequest', 'UpdateSecretVersionStageResponse', (), None),
    'GetRandomPassword': ('GetRandomPasswordRequest', 'GetRandomPasswordResponse', (), None),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

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
    'AutomaticallyRotateAfterDaysType': ('long', 1),
    'ClientRequestTokenType': ('string', 32),
    'CreatedDateType': ('timestamp',),
    'DecryptionFailure': ('structure', (), (('Message', 'ErrorMessage'),)),
    'DeletedDateType': ('timestamp',),
    'DescribeSecretRequest': ('structure', ('SecretId',), (('SecretId', 'SecretIdType'),)),
    'DescribeSecretResponse': ('structure', (), (('ARN', 'SecretARNType'), ('Name', 'SecretNameType'), ('Description', 'DescriptionType'), ('KmsKeyId', 'KmsKeyIdType'), ('RotationEnabled', 'RotationEnabledType'), ('RotationLambdaARN', 'RotationLambdaARNType'), ('RotationRules', 'RotationRulesType'), ('LastRotatedDate', 'LastRotatedDateType'), ('LastChangedDate', 'LastChangedDateType'), ('LastAccessedDate', 'LastAccessedDateType'), ('DeletedDate', 'DeletedDateType'), ('Tags', 'TagListType'), ('VersionIdsToStages', 'SecretVersionsToStagesMapType'), ('OwningService', 'OwningServiceType'), ('CreatedDate', 'TimestampType'), ('PrimaryRegion', 'RegionType'), ('ReplicationStatus', 'ReplicationStatusListType'))),
    'DescriptionType': ('string', None),
    'DurationType': ('string', 2),
    'EncryptionFailure': ('structure', (), (('Message', 'ErrorMessage'),)),
    'ErrorMessage': ('string', None),
    'ExcludeCharactersType': ('string', 0),
    'ExcludeLowercaseType': ('boolean',),
    'ExcludeNumbersType': ('boolean',),
    'ExcludePunctuationType': ('boolean',),
    'ExcludeUppercaseType': ('boolean',),
    'GetRandomPasswordRequest': ('structure', (), (('PasswordLength', 'PasswordLengthType'), ('ExcludeCharacters', 'ExcludeCharactersType'), ('ExcludeNumbers', 'ExcludeNumbersType'), ('ExcludePunctuation', 'ExcludePunctuationType'), ('ExcludeUppercase', 'ExcludeUppercaseType'), ('ExcludeLowercase', 'ExcludeLowercaseType'), ('IncludeSpace', 'IncludeSpaceType'), ('RequireEachIncludedType', 'RequireEachIncludedTypeType'))),
    'GetRandomPasswordResponse': ('structure', (), (('RandomPassword', 'RandomPasswordType'),)),
    'GetSecretValueRequest': ('structure', ('SecretId',), (('SecretId', 'SecretIdType'), ('VersionId', 'SecretVersionIdType'), ('VersionStage', 'SecretVersionStageType'))),
    'GetSecretValueResponse': ('structure', (), (('ARN', 'SecretARNType'), ('Name', 'SecretNameType'), ('VersionId', 'SecretVersionIdType'), ('SecretBinary', 'SecretBinaryType'), ('SecretString', 'SecretStringType'), ('VersionStages', 'SecretVersionStagesType'), ('CreatedDate', 'CreatedDateType'))),
    'IncludeSpaceType': ('boolean',),
    'InternalServiceError': ('structure', (), (('Message', 'ErrorMessage'),)),
    'InvalidNextTokenException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'InvalidParameterException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'InvalidRequestException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'KmsKeyIdType': ('string', 0),
    'LastAccessedDateType': ('timestamp',),
    'LastChangedDateType': ('timestamp',),
    'LastRotatedDateType': ('timestamp',),
    'LimitExceededException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'MalformedPolicyDocumentException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'OwningServiceType': ('string', 1),
    'PasswordLengthType': ('long', 1),
    'PreconditionNotMetException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'PublicPolicyException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'PutSecretValueRequest': ('structure', ('SecretId',), (('SecretId', 'SecretIdType'), ('ClientRequestToken', 'ClientRequestTokenType'), ('SecretBinary', 'SecretBinaryType'), ('SecretString', 'SecretStringType'), ('VersionStages', 'SecretVersionStagesType'))),
    'PutSecretValueResponse': ('structure', (), (('ARN', 'SecretARNType'), ('Name', 'SecretNameType'), ('VersionId', 'SecretVersionIdType'), ('VersionStages', 'SecretVersionStagesType'))),
    'RandomPasswordType': ('string', 0),
    'RegionType': ('string', 1),
    'ReplicationStatusListType': ('list', 'ReplicationStatusType', None, False, None),
    'ReplicationStatusType': ('structure', (), (('Region', 'RegionType'), ('KmsKeyId', 'KmsKeyIdType'), ('Status', 'StatusType'), ('StatusMessage', 'StatusMessageType'), ('LastAccessedDate', 'LastAccessedDateType'))),
    'RequireEachIncludedTypeType': ('boolean',),
    'ResourceExistsException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'ResourceNotFoundException': ('structure', (), (('Message', 'ErrorMessage'),)),
    'RotationEnabledType': ('boolean',),
    'RotationLambdaARNType': ('string', 0),
    'RotationRulesType': ('structure', (), (('AutomaticallyAfterDays', 'AutomaticallyRotateAfterDaysType'), ('Duration', 'DurationType'), ('ScheduleExpression', 'ScheduleExpressionType'))),
    'ScheduleExpressionType': ('string', 1),
    'SecretARNType': ('string', 20),
    'SecretBinaryType': ('blob',),
    'SecretIdType': ('string', 1),
    'SecretNameType': ('string', 1),
    'SecretStringType': ('string', 0),
    'SecretVersionIdType': ('string', 32),
    'SecretVersionStageType': ('string', 1),
    'SecretVersionStagesType': ('list', 'SecretVersionStageType', 1, False, None),
    'SecretVersionsToStagesMapType': ('map', 'SecretVersionIdType', 'SecretVersionStagesType', False, 'key', 'value'),
    'StatusMessageType': ('string', 1),
    'StatusType': ('string', None),
    'Tag': ('structure', (), (('Key', 'TagKeyType'), ('Value', 'TagValueType'))),
    'TagKeyType': ('string', 1),
    'TagListType': ('list', 'Tag', None, False, None),
    'TagValueType': ('string', 0),
    'TimestampType': ('timestamp',),
    'UpdateSecretVersionStageRequest': ('structure', ('SecretId', 'VersionStage'), (('SecretId', 'SecretIdType'), ('VersionStage', 'SecretVersionStageType'), ('RemoveFromVersionId', 'SecretVersionIdType'), ('MoveToVersionId', 'SecretVersionIdType'))),
    'UpdateSecretVersionStageResponse': ('structure', (), (('ARN', 'SecretARNType'), ('Name', 'SecretNameType'))),
}
