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


def _error(name, bases, fmt=None):
    """A botocore exception class; ``bases`` one class or a tuple, ``fmt`` None to inherit its base's."""
    namespace = {'__module__': __name__} if fmt is None else {'fmt': fmt, '__module__': __name__}
    return type(name, bases if isinstance(bases, tuple) else (bases,), namespace)


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
# botocore's ReadTimeoutError, ConnectTimeoutError, SSLError and ProxyConnectionError also derive from the vendored
# requests' (and urllib3's) exceptions, which are OSErrors: OSError stands for them, so `except OSError` catches the same.
ReadTimeoutError = _error('ReadTimeoutError', (HTTPClientError, OSError), 'Read timeout on endpoint URL: "{endpoint_url}"')
ConnectTimeoutError = _error(
    'ConnectTimeoutError', (ConnectionError, OSError), 'Connect timeout on endpoint URL: "{endpoint_url}"')
SSLError = _error('SSLError', (ConnectionError, OSError), 'SSL validation failed for {endpoint_url} {error}')
ProxyConnectionError = _error(
    'ProxyConnectionError', (ConnectionError, OSError), 'Failed to connect to proxy URL: "{proxy_url}"')
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
# The rest of botocore 1.29's classes: the stand-in raises few of them, but handlers import and catch them by name.
ApiVersionNotFoundError = _error('ApiVersionNotFoundError', BotoCoreError, 'Unable to load data {data_path} for: {api_version}')
InvalidIMDSEndpointError = _error(
    'InvalidIMDSEndpointError', BotoCoreError, 'Invalid endpoint EC2 Instance Metadata endpoint: {endpoint}')
InvalidIMDSEndpointModeError = _error(
    'InvalidIMDSEndpointModeError', BotoCoreError,
    'Invalid EC2 Instance Metadata endpoint mode: {mode} Valid endpoint modes (case-insensitive): {valid_modes}.')
NoAuthTokenError = _error('NoAuthTokenError', BotoCoreError, 'Unable to locate authorization token')
TokenRetrievalError = _error('TokenRetrievalError', BotoCoreError, 'Error when retrieving token from {provider}: {error_msg}')
UnknownSignatureVersionError = _error(
    'UnknownSignatureVersionError', BotoCoreError, 'Unknown Signature Version: {signature_version}.')
ServiceNotInRegionError = _error(
    'ServiceNotInRegionError', BotoCoreError, 'Service {service_name} not available in region {region_name}')
EndpointVariantError = _error(
    'EndpointVariantError', BaseEndpointResolverError,
    'Unable to construct a modeled endpoint with the following variant(s) {tags}: ')
UnknownEndpointError = _error(
    'UnknownEndpointError', (BaseEndpointResolverError, ValueError),
    'Unable to construct an endpoint for {service_name} in region {region_name}')
UnknownFIPSEndpointError = _error(
    'UnknownFIPSEndpointError', BaseEndpointResolverError,
    'The provided FIPS pseudo-region "{region_name}" is not known for the service "{service_name}". '
    'A FIPS compliant endpoint cannot be constructed.')
ConfigParseError = _error('ConfigParseError', BotoCoreError, 'Unable to parse config file: {path}')
ConfigNotFound = _error('ConfigNotFound', BotoCoreError, 'The specified config file ({path}) could not be found.')
MissingParametersError = _error(
    'MissingParametersError', BotoCoreError, 'The following required parameters are missing for {object_name}: {missing}')
UnknownKeyError = _error(
    'UnknownKeyError', ValidationError, "Unknown key '{value}' for param '{param}'.  Must be one of: {choices}")
RangeError = _error(
    'RangeError', ValidationError, 'Value out of range for param {param}: {min_value} <= {value} <= {max_value}')
UnknownParameterError = _error(
    'UnknownParameterError', ValidationError,
    "Unknown parameter '{name}' for operation {operation}.  Must be one of: {choices}")
InvalidRegionError = _error(
    'InvalidRegionError', (ValidationError, ValueError), "Provided region_name '{region_name}' doesn't match a supported format.")
UnknownServiceStyle = _error('UnknownServiceStyle', BotoCoreError, 'The service style ({service_style}) is not understood.')
UnseekableStreamError = _error(
    'UnseekableStreamError', BotoCoreError, 'Need to rewind the stream {stream_object}, but stream is not seekable.')
InvalidExpressionError = _error(
    'InvalidExpressionError', BotoCoreError, 'Invalid expression {expression}: Only dotted lookups are supported.')
UnknownCredentialError = _error('UnknownCredentialError', BotoCoreError, 'Credential named {name} not found.')
WaiterConfigError = _error('WaiterConfigError', BotoCoreError, 'Error processing waiter config: {error_msg}')
UnsupportedSignatureVersionError = _error(
    'UnsupportedSignatureVersionError', BotoCoreError, 'Signature version is not supported: {signature_version}')
UnsupportedTLSVersionWarning = _error('UnsupportedTLSVersionWarning', Warning)
ImminentRemovalWarning = _error('ImminentRemovalWarning', Warning)
InvalidDNSNameError = _error(
    'InvalidDNSNameError', BotoCoreError,
    'Bucket named {bucket_name} is not DNS compatible. Virtual hosted-style addressing cannot be used. The addressing '
    "style can be configured by removing the addressing_style value or setting that value to 'path' or 'auto' in the "
    'AWS Config file or in the botocore.client.Config object.')
InvalidS3AddressingStyleError = _error(
    'InvalidS3AddressingStyleError', BotoCoreError,
    "S3 addressing style {s3_addressing_style} is invalid. Valid options are: 'auto', 'virtual', and 'path'")
UnsupportedS3ArnError = _error(
    'UnsupportedS3ArnError', BotoCoreError,
    'S3 ARN {arn} provided to "Bucket" parameter is invalid. Only ARNs for S3 access-points are supported.')
UnsupportedS3ControlArnError = _error(
    'UnsupportedS3ControlArnError', BotoCoreError, 'S3 ARN "{arn}" provided is invalid for this operation. {msg}')
InvalidHostLabelError = _error(
    'InvalidHostLabelError', BotoCoreError, 'Invalid host label to be bound to the hostname of the endpoint: "{label}".')
UnsupportedOutpostResourceError = _error(
    'UnsupportedOutpostResourceError', BotoCoreError,
    'S3 Outpost ARN resource "{resource_name}" provided to "Bucket" parameter is invalid. Only ARNs for S3 Outpost arns '
    'with an access-point sub-resource are supported.')
UnsupportedS3ConfigurationError = _error(
    'UnsupportedS3ConfigurationError', BotoCoreError, 'Unsupported configuration when using S3: {msg}')
UnsupportedS3AccesspointConfigurationError = _error(
    'UnsupportedS3AccesspointConfigurationError', BotoCoreError,
    'Unsupported configuration when using S3 access-points: {msg}')
InvalidEndpointDiscoveryConfigurationError = _error(
    'InvalidEndpointDiscoveryConfigurationError', BotoCoreError,
    'Unsupported configuration value for endpoint_discovery_enabled. Expected one of ("true", "false", "auto") but got '
    '{config_value}.')
UnsupportedS3ControlConfigurationError = _error(
    'UnsupportedS3ControlConfigurationError', BotoCoreError, 'Unsupported configuration when using S3 Control: {msg}')
InvalidRetryConfigurationError = _error(
    'InvalidRetryConfigurationError', BotoCoreError,
    'Cannot provide retry configuration for "{retry_config_option}". Valid retry configuration options are: '
    '{valid_options}')
InvalidMaxRetryAttemptsError = _error(
    'InvalidMaxRetryAttemptsError', InvalidRetryConfigurationError,
    'Value provided to "max_attempts": {provided_max_attempts} must be an integer greater than or equal to {min_value}.')
InvalidRetryModeError = _error(
    'InvalidRetryModeError', InvalidRetryConfigurationError,
    'Invalid value provided to "mode": "{provided_retry_mode}" must be one of: {valid_modes}')
InvalidS3UsEast1RegionalEndpointConfigError = _error(
    'InvalidS3UsEast1RegionalEndpointConfigError', BotoCoreError,
    'S3 us-east-1 regional endpoint option {s3_us_east_1_regional_endpoint_config} is invalid. Valid options are: '
    '"legacy", "regional"')
InvalidSTSRegionalEndpointsConfigError = _error(
    'InvalidSTSRegionalEndpointsConfigError', BotoCoreError,
    'STS regional endpoints option {sts_regional_endpoints_config} is invalid. Valid options are: "legacy", "regional"')
StubResponseError = _error(
    'StubResponseError', BotoCoreError, 'Error getting response stub for operation {operation_name}: {reason}')
StubAssertionError = _error('StubAssertionError', (StubResponseError, AssertionError))
UnStubbedResponseError = _error('UnStubbedResponseError', StubResponseError)
InfiniteLoopConfigError = _error(
    'InfiniteLoopConfigError', InvalidConfigError,
    'Infinite loop in credential configuration detected. Attempting to load from profile {source_profile} which has '
    'already been visited. Visited profiles: {visited_profiles}')
RefreshWithMFAUnsupportedError = _error(
    'RefreshWithMFAUnsupportedError', BotoCoreError, 'Cannot refresh credentials: MFA token required.')
MD5UnavailableError = _error('MD5UnavailableError', BotoCoreError, 'This system does not support MD5 generation.')
MissingDependencyException = _error('MissingDependencyException', BotoCoreError, 'Missing Dependency: {msg}')
MetadataRetrievalError = _error('MetadataRetrievalError', BotoCoreError, 'Error retrieving metadata: {error_msg}')
UndefinedModelAttributeError = _error('UndefinedModelAttributeError', Exception)


class MissingServiceIdError(UndefinedModelAttributeError):
    fmt = ('The model being used for the service {service_name} is missing the serviceId metadata property, which is '
           'required.')

    def __init__(self, **kwargs):
        Exception.__init__(self, self.fmt.format(**kwargs))
        self.kwargs = kwargs


SSOError = _error(
    'SSOError', BotoCoreError,
    'An unspecified error happened when resolving AWS credentials or an access token from SSO.')
SSOTokenLoadError = _error('SSOTokenLoadError', SSOError, 'Error loading SSO Token: {error_msg}')
UnauthorizedSSOTokenError = _error(
    'UnauthorizedSSOTokenError', SSOError,
    'The SSO session associated with this profile has expired or is otherwise invalid. To refresh this SSO session '
    'run aws sso login with the corresponding profile.')
CapacityNotAvailableError = _error('CapacityNotAvailableError', BotoCoreError, 'Insufficient request capacity available.')
InvalidProxiesConfigError = _error(
    'InvalidProxiesConfigError', BotoCoreError, 'Invalid configuration value(s) provided for proxies_config.')
InvalidDefaultsMode = _error(
    'InvalidDefaultsMode', BotoCoreError,
    'Client configured with invalid defaults mode: {mode}. Valid defaults modes include: {valid_modes}.')
AwsChunkedWrapperError = _error('AwsChunkedWrapperError', BotoCoreError, '{error_msg}')
InvalidEndpointConfigurationError = _error(
    'InvalidEndpointConfigurationError', BotoCoreError, 'Invalid endpoint configuration: {msg}')
EndpointProviderError = _error('EndpointProviderError', BotoCoreError, '{msg}')
EndpointResolutionError = _error('EndpointResolutionError', EndpointProviderError, '{msg}')
UnknownEndpointResolutionBuiltInName = _error(
    'UnknownEndpointResolutionBuiltInName', EndpointProviderError, 'Unknown builtin variable name: {name}')


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


class EventStreamError(ClientError):
    pass
