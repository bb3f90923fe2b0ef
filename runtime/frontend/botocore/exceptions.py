# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Exception classes of botocore 1.29, same names, bases and messages.

Handlers catch these by name (``except botocore.exceptions.ClientError``), so
the hierarchy and the message templates follow botocore exactly.
"""


class BotoCoreError(Exception):
    fmt = 'An unspecified error occurred'

    def __init__(self, **kwargs):
        msg = self.fmt.format(**kwargs)
        Exception.__init__(self, msg)
        self.kwargs = kwargs

    def __reduce__(self):
        return _from_kwargs, (self.__class__, self.kwargs)


def _from_kwargs(cls, kwargs):
    return cls(**kwargs)


def _error(name, base, fmt):
    return type(name, (base,), {'fmt': fmt, '__module__': __name__})


DataNotFoundError = _error('DataNotFoundError', BotoCoreError, 'Unable to load data for: {data_path}')
UnknownServiceError = _error(
    'UnknownServiceError', DataNotFoundError,
    "Unknown service: '{service_name}'. Valid service names are: {known_service_names}")
UnknownRegionError = _error('UnknownRegionError', BotoCoreError, "Unknown region: '{region_name}'. {error_msg}")
HTTPClientError = _error('HTTPClientError', BotoCoreError, 'An HTTP Client raised an unhandled exception: {error}')
ConnectionError = _error(  # noqa: A001 - botocore's own name
    'ConnectionError', BotoCoreError, 'An HTTP Client failed to establish a connection: {error}')
EndpointConnectionError = _error(
    'EndpointConnectionError', ConnectionError, 'Could not connect to the endpoint URL: "{endpoint_url}"')
ConnectionClosedError = _error(
    'ConnectionClosedError', HTTPClientError,
    'Connection was closed before we received a valid response from endpoint URL: "{endpoint_url}".')
ReadTimeoutError = _error('ReadTimeoutError', HTTPClientError, 'Read timeout on endpoint URL: "{endpoint_url}"')
ConnectTimeoutError = _error(
    'ConnectTimeoutError', ConnectionError, 'Connect timeout on endpoint URL: "{endpoint_url}"')
ResponseStreamingError = _error(
    'ResponseStreamingError', HTTPClientError, 'An error occurred while reading from response stream: {error}')
NoCredentialsError = _error('NoCredentialsError', BotoCoreError, 'Unable to locate credentials')
PartialCredentialsError = _error(
    'PartialCredentialsError', BotoCoreError, 'Partial credentials found in {provider}, missing: {cred_var}')
CredentialRetrievalError = _error(
    'CredentialRetrievalError', BotoCoreError, 'Error when retrieving credentials from {provider}: {error_msg}')
BaseEndpointResolverError = _error('BaseEndpointResolverError', BotoCoreError, 'An unspecified error occurred')
NoRegionError = _error('NoRegionError', BaseEndpointResolverError, 'You must specify a region.')
ProfileNotFound = _error('ProfileNotFound', BotoCoreError, 'The config profile ({profile}) could not be found')
ValidationError = _error(
    'ValidationError', BotoCoreError, "Invalid value ('{value}') for param {param} of type {type_name} ")
ParamValidationError = _error('ParamValidationError', BotoCoreError, 'Parameter validation failed:\n{report}')
AliasConflictParameterError = _error(
    'AliasConflictParameterError', ValidationError,
    "Parameter '{original}' and its alias '{alias}' were provided for operation {operation}.  Only one of them may be used.")
PaginationError = _error('PaginationError', BotoCoreError, 'Error during pagination: {message}')
OperationNotPageableError = _error(
    'OperationNotPageableError', BotoCoreError, 'Operation cannot be paginated: {operation_name}')
IncompleteReadError = _error(
    'IncompleteReadError', BotoCoreError,
    '{actual_bytes} read, but total bytes expected is {expected_bytes}.')
UnknownClientMethodError = _error(
    'UnknownClientMethodError', BotoCoreError, 'Client does not have method: {method_name}')
InvalidConfigError = _error('InvalidConfigError', BotoCoreError, '{error_msg}')
FlexibleChecksumError = _error('FlexibleChecksumError', BotoCoreError, '{error_msg}')
ChecksumError = _error(
    'ChecksumError', BotoCoreError,
    'Checksum {checksum_type} failed, expected checksum {expected_checksum} did not match calculated checksum '
    '{actual_checksum}.')
class WaiterError(BotoCoreError):
    fmt = 'Waiter {name} failed: {reason}'

    def __init__(self, name, reason, last_response):
        super().__init__(name=name, reason=reason)
        self.last_response = last_response


# Nexus's own: a call the stand-in SDK cannot turn into a channel request.
NexusUnsupportedError = _error(
    'NexusUnsupportedError', BotoCoreError,
    '{what} is not offloaded in nexus mode (the function has no network and no credentials in its '
    'sandbox: its AWS calls go over the Nexus channel to the node, which signs them within the '
    'function\'s grants). To use {what}, set "io: baseline" in the function\'s function.yaml '
    'and redeploy: baseline mode runs the real boto3 over the network.')


class ClientError(Exception):
    MSG_TEMPLATE = (
        'An error occurred ({error_code}) when calling the {operation_name} '
        'operation{retry_info}: {error_message}'
    )

    def __init__(self, error_response, operation_name):
        retry_info = self._get_retry_info(error_response)
        error = error_response.get('Error', {})
        msg = self.MSG_TEMPLATE.format(
            error_code=error.get('Code', 'Unknown'),
            error_message=error.get('Message', 'Unknown'),
            operation_name=operation_name,
            retry_info=retry_info,
        )
        super().__init__(msg)
        self.response = error_response
        self.operation_name = operation_name

    def _get_retry_info(self, response):
        metadata = response.get('ResponseMetadata')
        if metadata and metadata.get('MaxAttemptsReached', False) and 'RetryAttempts' in metadata:
            return f" (reached max retries: {metadata['RetryAttempts']})"
        return ''

    def __reduce__(self):
        # Modeled subclasses are generated per service; pickle as the base class like botocore.
        return ClientError, (self.response, self.operation_name)
