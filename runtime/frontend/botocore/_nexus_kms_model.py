# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the kms model (2014-11-01, botocore 1.29.27) the stand-in client reads.

Written by runtime/frontend/model_slice.py (do not edit):
  /usr/bin/python3 model_slice.py kms Decrypt,Encrypt,GenerateDataKey,GenerateDataKeyWithoutPlaintext,GenerateRandom,ReEncrypt,Sign,Verify
Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])
[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).
"""

SERVICE = 'kms'
PROTOCOL = 'json'
TARGET_PREFIX = 'TrentService'
JSON_VERSION = '1.1'
API_VERSION = '2014-11-01'
ENDPOINT_PREFIX = 'kms'
# The model's metadata, as client.meta.service_model.metadata gives it.
METADATA = {'apiVersion': '2014-11-01', 'endpointPrefix': 'kms', 'jsonVersion': '1.1', 'protocol': 'json', 'serviceAbbreviation': 'KMS', 'serviceFullName': 'AWS Key Management Service', 'serviceId': 'KMS', 'signatureVersion': 'v4', 'targetPrefix': 'TrentService', 'uid': 'kms-2014-11-01'}

# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).
OPERATIONS = {
    'Decrypt': ('DecryptRequest', 'DecryptResponse', (), None),
    'Encrypt': ('EncryptRequest', 'EncryptResponse', (), None),
    'GenerateDataKey': ('GenerateDataKeyRequest', 'GenerateDataKeyResponse', (), None),
    'GenerateDataKeyWithoutPlaintext': ('GenerateDataKeyWithoutPlaintextRequest', 'GenerateDataKeyWithoutPlaintextResponse', (), None),
    'GenerateRandom': ('GenerateRandomRequest', 'GenerateRandomResponse', (), None),
    'ReEncrypt': ('ReEncryptRequest', 'ReEncryptResponse', (), None),
    'Sign': ('SignRequest', 'SignResponse', (), None),
    'Verify': ('VerifyRequest', 'VerifyResponse', (), None),
}

# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one
# is the real botocore's (generic path).
GENERIC_WHEN = {}

# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).
RETRYABLE = {}

# Every error shape of the service (client.exceptions names them all).
ERRORS = (
    'AlreadyExistsException',
    'CloudHsmClusterInUseException',
    'CloudHsmClusterInvalidConfigurationException',
    'CloudHsmClusterNotActiveException',
    'CloudHsmClusterNotFoundException',
    'CloudHsmClusterNotRelatedException',
    'CustomKeyStoreHasCMKsException',
    'CustomKeyStoreInvalidStateException',
    'CustomKeyStoreNameInUseException',
    'CustomKeyStoreNotFoundException',
    'DependencyTimeoutException',
    'DisabledException',
    'ExpiredImportTokenException',
    'IncorrectKeyException',
    'IncorrectKeyMaterialException',
    'IncorrectTrustAnchorException',
    'InvalidAliasNameException',
    'InvalidArnException',
    'InvalidCiphertextException',
    'InvalidGrantIdException',
    'InvalidGrantTokenException',
    'InvalidImportTokenException',
    'InvalidKeyUsageException',
    'InvalidMarkerException',
    'KMSInternalException',
    'KMSInvalidMacException',
    'KMSInvalidSignatureException',
    'KMSInvalidStateException',
    'KeyUnavailableException',
    'LimitExceededException',
    'MalformedPolicyDocumentException',
    'NotFoundException',
    'TagException',
    'UnsupportedOperationException',
    'XksKeyAlreadyInUseException',
    'XksKeyInvalidConfigurationException',
    'XksKeyNotFoundException',
    'XksProxyIncorrectAuthenticationCredentialException',
    'XksProxyInvalidConfigurationException',
    'XksProxyInvalidResponseException',
    'XksProxyUriEndpointInUseException',
    'XksProxyUriInUseException',
    'XksProxyUriUnreachableException',
    'XksProxyVpcEndpointServiceInUseException',
    'XksProxyVpcEndpointServiceInvalidConfigurationException',
    'XksProxyVpcEndpointServiceNotFoundException',
)

# Error code -> shape, where the code is not the shape's name.
ERROR_CODES = {}

SHAPES = {
    'AlreadyExistsException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'BooleanType': ('boolean',),
    'CiphertextType': ('blob',),
    'CloudHsmClusterInUseException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'CloudHsmClusterInvalidConfigurationException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'CloudHsmClusterNotActiveException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'CloudHsmClusterNotFoundException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'CloudHsmClusterNotRelatedException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'CustomKeyStoreHasCMKsException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'CustomKeyStoreIdType': ('string', 1),
    'CustomKeyStoreInvalidStateException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'CustomKeyStoreNameInUseException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'CustomKeyStoreNotFoundException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'DataKeySpec': ('string', None),
    'DecryptRequest': ('structure', ('CiphertextBlob',), (('CiphertextBlob', 'CiphertextType'), ('EncryptionContext', 'EncryptionContextType'), ('GrantTokens', 'GrantTokenList'), ('KeyId', 'KeyIdType'), ('EncryptionAlgorithm', 'EncryptionAlgorithmSpec'))),
    'DecryptResponse': ('structure', (), (('KeyId', 'KeyIdType'), ('Plaintext', 'PlaintextType'), ('EncryptionAlgorithm', 'EncryptionAlgorithmSpec'))),
    'DependencyTimeoutException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'DisabledException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'EncryptRequest': ('structure', ('KeyId', 'Plaintext'), (('KeyId', 'KeyIdType'), ('Plaintext', 'PlaintextType'), ('EncryptionContext', 'EncryptionContextType'), ('GrantTokens', 'GrantTokenList'), ('EncryptionAlgorithm', 'EncryptionAlgorithmSpec'))),
    'EncryptResponse': ('structure', (), (('CiphertextBlob', 'CiphertextType'), ('KeyId', 'KeyIdType'), ('EncryptionAlgorithm', 'EncryptionAlgorithmSpec'))),
    'EncryptionAlgorithmSpec': ('string', None),
    'EncryptionContextKey': ('string', None),
    'EncryptionContextType': ('map', 'EncryptionContextKey', 'EncryptionContextValue', False, 'key', 'value'),
    'EncryptionContextValue': ('string', None),
    'ErrorMessageType': ('string', None),
    'ExpiredImportTokenException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'GenerateDataKeyRequest': ('structure', ('KeyId',), (('KeyId', 'KeyIdType'), ('EncryptionContext', 'EncryptionContextType'), ('NumberOfBytes', 'NumberOfBytesType'), ('KeySpec', 'DataKeySpec'), ('GrantTokens', 'GrantTokenList'))),
    'GenerateDataKeyResponse': ('structure', (), (('CiphertextBlob', 'CiphertextType'), ('Plaintext', 'PlaintextType'), ('KeyId', 'KeyIdType'))),
    'GenerateDataKeyWithoutPlaintextRequest': ('structure', ('KeyId',), (('KeyId', 'KeyIdType'), ('EncryptionContext', 'EncryptionContextType'), ('KeySpec', 'DataKeySpec'), ('NumberOfBytes', 'NumberOfBytesType'), ('GrantTokens', 'GrantTokenList'))),
    'GenerateDataKeyWithoutPlaintextResponse': ('structure', (), (('CiphertextBlob', 'CiphertextType'), ('KeyId', 'KeyIdType'))),
    'GenerateRandomRequest': ('structure', (), (('NumberOfBytes', 'NumberOfBytesType'), ('CustomKeyStoreId', 'CustomKeyStoreIdType'))),
    'GenerateRandomResponse': ('structure', (), (('Plaintext', 'PlaintextType'),)),
    'GrantTokenList': ('list', 'GrantTokenType', 0, False, None),
    'GrantTokenType': ('string', 1),
    'IncorrectKeyException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'IncorrectKeyMaterialException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'IncorrectTrustAnchorException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'InvalidAliasNameException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'InvalidArnException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'InvalidCiphertextException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'InvalidGrantIdException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'InvalidGrantTokenException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'InvalidImportTokenException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'InvalidKeyUsageException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'InvalidMarkerException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'KMSInternalException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'KMSInvalidMacException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'KMSInvalidSignatureException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'KMSInvalidStateException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'KeyIdType': ('string', 1),
    'KeyUnavailableException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'LimitExceededException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'MalformedPolicyDocumentException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'MessageType': ('string', None),
    'NotFoundException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'NumberOfBytesType': ('integer', 1),
    'PlaintextType': ('blob',),
    'ReEncryptRequest': ('structure', ('CiphertextBlob', 'DestinationKeyId'), (('CiphertextBlob', 'CiphertextType'), ('SourceEncryptionContext', 'EncryptionContextType'), ('SourceKeyId', 'KeyIdType'), ('DestinationKeyId', 'KeyIdType'), ('DestinationEncryptionContext', 'EncryptionContextType'), ('SourceEncryptionAlgorithm', 'EncryptionAlgorithmSpec'), ('DestinationEncryptionAlgorithm', 'EncryptionAlgorithmSpec'), ('GrantTokens', 'GrantTokenList'))),
    'ReEncryptResponse': ('structure', (), (('CiphertextBlob', 'CiphertextType'), ('SourceKeyId', 'KeyIdType'), ('KeyId', 'KeyIdType'), ('SourceEncryptionAlgorithm', 'EncryptionAlgorithmSpec'), ('DestinationEncryptionAlgorithm', 'EncryptionAlgorithmSpec'))),
    'SignRequest': ('structure', ('KeyId', 'Message', 'SigningAlgorithm'), (('KeyId', 'KeyIdType'), ('Message', 'PlaintextType'), ('MessageType', 'MessageType'), ('GrantTokens', 'GrantTokenList'), ('SigningAlgorithm', 'SigningAlgorithmSpec'))),
    'SignResponse': ('structure', (), (('KeyId', 'KeyIdType'), ('Signature', 'CiphertextType'), ('SigningAlgorithm', 'SigningAlgorithmSpec'))),
    'SigningAlgorithmSpec': ('string', None),
    'TagException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'UnsupportedOperationException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'VerifyRequest': ('structure', ('KeyId', 'Message', 'Signature', 'SigningAlgorithm'), (('KeyId', 'KeyIdType'), ('Message', 'PlaintextType'), ('MessageType', 'MessageType'), ('Signature', 'CiphertextType'), ('SigningAlgorithm', 'SigningAlgorithmSpec'), ('GrantTokens', 'GrantTokenList'))),
    'VerifyResponse': ('structure', (), (('KeyId', 'KeyIdType'), ('SignatureValid', 'BooleanType'), ('SigningAlgorithm', 'SigningAlgorithmSpec'))),
    'XksKeyAlreadyInUseException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksKeyInvalidConfigurationException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksKeyNotFoundException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyIncorrectAuthenticationCredentialException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyInvalidConfigurationException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyInvalidResponseException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyUriEndpointInUseException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyUriInUseException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyUriUnreachableException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyVpcEndpointServiceInUseException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyVpcEndpointServiceInvalidConfigurationException': ('structure', (), (('message', 'ErrorMessageType'),)),
    'XksProxyVpcEndpointServiceNotFoundException': ('structure', (), (('message', 'ErrorMessageType'),)),
}
