# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Modeled exceptions: ClientError subclasses named after a service's error codes, as botocore generates them."""

from botocore.exceptions import ClientError

# The error shapes of the S3 model (botocore 1.29.27).
_S3_CODES = (
    'BucketAlreadyExists', 'BucketAlreadyOwnedByYou', 'InvalidObjectState', 'NoSuchBucket',
    'NoSuchKey', 'NoSuchUpload', 'ObjectAlreadyInActiveTierError', 'ObjectNotInActiveTierError',
)


class BaseClientExceptions:
    ClientError = ClientError

    def __init__(self, code_to_exception):
        self._code_to_exception = code_to_exception

    def from_code(self, error_code):
        return self._code_to_exception.get(error_code, self.ClientError)

    def __getattr__(self, name):
        names = ', '.join(cls.__name__ for cls in self._code_to_exception.values())
        raise AttributeError(f'{self} object has no attribute {name}. Valid exceptions are: {names}')


# The error shapes of the Lambda model (botocore 1.29.27, lambda 2015-03-31), each with its members in model order:
# (name, header) for one read from a response header, (name, None) for one read from the JSON body.
_BODY = (('Type', None), ('Message', None))
_BODY_LOWER = (('Type', None), ('message', None))
LAMBDA_ERROR_FIELDS = {
    'CodeSigningConfigNotFoundException': _BODY, 'CodeStorageExceededException': _BODY_LOWER,
    'CodeVerificationFailedException': _BODY, 'EC2AccessDeniedException': _BODY, 'EC2ThrottledException': _BODY,
    'EC2UnexpectedException': _BODY + (('EC2ErrorCode', None),), 'EFSIOException': _BODY,
    'EFSMountConnectivityException': _BODY, 'EFSMountFailureException': _BODY, 'EFSMountTimeoutException': _BODY,
    'ENILimitReachedException': _BODY, 'InvalidCodeSignatureException': _BODY,
    'InvalidParameterValueException': _BODY_LOWER, 'InvalidRequestContentException': _BODY_LOWER,
    'InvalidRuntimeException': _BODY, 'InvalidSecurityGroupIDException': _BODY, 'InvalidSubnetIDException': _BODY,
    'InvalidZipFileException': _BODY, 'KMSAccessDeniedException': _BODY, 'KMSDisabledException': _BODY,
    'KMSInvalidStateException': _BODY, 'KMSNotFoundException': _BODY, 'PolicyLengthExceededException': _BODY_LOWER,
    'PreconditionFailedException': _BODY_LOWER, 'ProvisionedConcurrencyConfigNotFoundException': _BODY_LOWER,
    'RequestTooLargeException': _BODY_LOWER, 'ResourceConflictException': _BODY_LOWER,
    'ResourceInUseException': _BODY, 'ResourceNotFoundException': _BODY, 'ResourceNotReadyException': _BODY_LOWER,
    'ServiceException': _BODY, 'SnapStartException': _BODY, 'SnapStartNotReadyException': _BODY,
    'SnapStartTimeoutException': _BODY, 'SubnetIPAddressLimitReachedException': _BODY,
    'TooManyRequestsException': (('retryAfterSeconds', 'Retry-After'), ('Type', None), ('message', None),
                                 ('Reason', None)),
    'UnsupportedMediaTypeException': _BODY_LOWER,
}


def _classes(codes):
    return {code: type(code, (ClientError,), {'__module__': __name__}) for code in codes}


_S3_CLASSES = _classes(_S3_CODES)
S3Exceptions = type('S3Exceptions', (BaseClientExceptions,), dict(_S3_CLASSES))
_LAMBDA_CLASSES = _classes(LAMBDA_ERROR_FIELDS)
LambdaExceptions = type('LambdaExceptions', (BaseClientExceptions,), dict(_LAMBDA_CLASSES))


def s3_exceptions():
    """The client.exceptions object (shared by all clients, so except clauses match across clients)."""
    return S3Exceptions(_S3_CLASSES)


def modeled_exceptions(client_class_name, shapes, codes=None):
    """A client's exceptions object for the service's error shapes (one per service, shared by its clients). Each
    class is named after its shape and found by its error code (``codes``: code -> shape, where they differ)."""
    exceptions = _modeled.get(client_class_name)
    if exceptions is None:
        classes = _classes(shapes)
        code_of = {shape: code for code, shape in (codes or {}).items()}
        exceptions = _modeled[client_class_name] = type(
            f'{client_class_name}Exceptions', (BaseClientExceptions,), dict(classes))(
                {code_of.get(name, name): cls for name, cls in classes.items()})
    return exceptions


_modeled = {}


def lambda_exceptions():
    """A Lambda client's exceptions (shared by all Lambda clients, as for S3)."""
    return LambdaExceptions(_LAMBDA_CLASSES)
