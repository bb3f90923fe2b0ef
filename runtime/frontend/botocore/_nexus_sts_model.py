# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the sts model (2011-06-15, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py sts GetCallerIdentity,AssumeRole
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'sts'
PROTOCOL = 'query'
TARGET_PREFIX = None
JSON_VERSION = None
API_VERSION = '2011-06-15'
ENDPOINT_PREFIX = 'sts'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2011-06-15', 'endpointPrefix': 'sts', 'globalEndpoint': 'sts.amazonaws.com', 'protocol': 'query', 'serviceAbbreviation': 'AWS STS', 'serviceFullName': 'AWS Security Token Service', 'serviceId': 'STS', 'signatureVersion': 'v4', 'uid': 'sts-2011-06-15', 'xmlNamespace': 'https://sts.amazonaws.com/doc/2011-06-15/'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'GetCallerIdentity': ('GetCallerIdentityRequest', 'GetCallerIdentityResponse', (), 'GetCallerIdentityResult'),
    'AssumeRole': ('AssumeRoleRequest', 'AssumeRoleResponse', (), 'AssumeRoleResult'),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'ExpiredTokenException',
    'IDPCommunicationErrorException',
    'IDPRejectedClaimException',
    'InvalidAuthorizationMessageException',
    'InvalidIdentityTokenException',
    'MalformedPolicyDocumentException',
    'PackedPolicyTooLargeException',
    'RegionDisabledException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {'IDPCommunicationError': 'IDPCommunicationErrorException', 'IDPRejectedClaim': 'IDPRejectedClaimException', 'InvalidIdentityToken': 'InvalidIdentityTokenException', 'MalformedPolicyDocument': 'MalformedPolicyDocumentException', 'PackedPolicyTooLarge': 'PackedPolicyTooLargeException'}

SHAPES = {
    'AssumeRoleRequest': ('structure', ('RoleArn', 'RoleSessionName'), (('RoleArn', 'arnType'), ('RoleSessionName', 'roleSessionNameType'), ('PolicyArns', 'policyDescriptorListType'), ('Policy', 'sessionPolicyDocumentType'), ('DurationSeconds', 'roleDurationSecondsType'), ('Tags', 'tagListType'), ('TransitiveTagKeys', 'tagKeyListType'), ('ExternalId', 'externalIdType'), ('SerialNumber', 'serialNumberType'), ('TokenCode', 'tokenCodeType'), ('SourceIdentity', 'sourceIdentityType'))),
    'AssumeRoleResponse': ('structure', (), (('Credentials', 'Credentials'), ('AssumedRoleUser', 'AssumedRoleUser'), ('PackedPolicySize', 'nonNegativeIntegerType'), ('SourceIdentity', 'sourceIdentityType'))),
    'AssumedRoleUser': ('structure', ('AssumedRoleId', 'Arn'), (('AssumedRoleId', 'assumedRoleIdType'), ('Arn', 'arnType'))),
    'Credentials': ('structure', ('AccessKeyId', 'SecretAccessKey', 'SessionToken', 'Expiration'), (('AccessKeyId', 'accessKeyIdType'), ('SecretAccessKey', 'accessKeySecretType'), ('SessionToken', 'tokenType'), ('Expiration', 'dateType'))),
    'ExpiredTokenException': ('structure', (), (('message', 'expiredIdentityTokenMessage'),)),
    'GetCallerIdentityRequest': ('structure', (), ()),
    'GetCallerIdentityResponse': ('structure', (), (('UserId', 'userIdType'), ('Account', 'accountType'), ('Arn', 'arnType'))),
    'IDPCommunicationErrorException': ('structure', (), (('message', 'idpCommunicationErrorMessage'),)),
    'IDPRejectedClaimException': ('structure', (), (('message', 'idpRejectedClaimMessage'),)),
    'InvalidAuthorizationMessageException': ('structure', (), (('message', 'invalidAuthorizationMessage'),)),
    'InvalidIdentityTokenException': ('structure', (), (('message', 'invalidIdentityTokenMessage'),)),
    'MalformedPolicyDocumentException': ('structure', (), (('message', 'malformedPolicyDocumentMessage'),)),
    'PackedPolicyTooLargeException': ('structure', (), (('message', 'packedPolicyTooLargeMessage'),)),
    'PolicyDescriptorType': ('structure', (), (('arn', 'arnType'),)),
    'RegionDisabledException': ('structure', (), (('message', 'regionDisabledMessage'),)),
    'Tag': ('structure', ('Key', 'Value'), (('Key', 'tagKeyType'), ('Value', 'tagValueType'))),
    'accessKeyIdType': ('string', 16),
    'accessKeySecretType': ('string', None),
    'accountType': ('string', None),
    'arnType': ('string', 20),
    'assumedRoleIdType': ('string', 2),
    'dateType': ('timestamp',),
    'expiredIdentityTokenMessage': ('string', None),
    'externalIdType': ('string', 2),
    'idpCommunicationErrorMessage': ('string', None),
    'idpRejectedClaimMessage': ('string', None),
    'invalidAuthorizationMessage': ('string', None),
    'invalidIdentityTokenMessage': ('string', None),
    'malformedPolicyDocumentMessage': ('string', None),
    'nonNegativeIntegerType': ('integer', 0),
    'packedPolicyTooLargeMessage': ('string', None),
    'policyDescriptorListType': ('list', 'PolicyDescriptorType', None, False, None),
    'regionDisabledMessage': ('string', None),
    'roleDurationSecondsType': ('integer', 900),
    'roleSessionNameType': ('string', 2),
    'serialNumberType': ('string', 9),
    'sessionPolicyDocumentType': ('string', 1),
    'sourceIdentityType': ('string', 2),
    'tagKeyListType': ('list', 'tagKeyType', None, False, None),
    'tagKeyType': ('string', 1),
    'tagListType': ('list', 'Tag', None, False, None),
    'tagValueType': ('string', 0),
    'tokenCodeType': ('string', 6),
    'tokenType': ('string', None),
    'userIdType': ('string', None),
}
