# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Modeled S3 exceptions: ClientError subclasses named after S3 error codes, as botocore generates them."""

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
        names = ', '.join(sorted(self._code_to_exception))
        raise AttributeError(f'{self} object has no attribute {name}. Valid exceptions are: {names}')


_S3_CLASSES = {code: type(code, (ClientError,), {'__module__': __name__}) for code in _S3_CODES}
S3Exceptions = type('S3Exceptions', (BaseClientExceptions,), dict(_S3_CLASSES))


def s3_exceptions():
    """The client.exceptions object (shared by all clients, so except clauses match across clients)."""
    return S3Exceptions(_S3_CLASSES)
