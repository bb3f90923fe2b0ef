# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The S3 client of the Nexus stand-in SDK.

Each API call is validated like botocore validates it, then sent as one request
on the Nexus channel (package ``nexus_channel``); the backend on the host runs it
against the store and answers with the boto3 response fields as JSON. This
module turns that answer into exactly what botocore would have returned.
"""

import functools
import os
import sys
import _thread

from botocore._nexus_events import EventHooks
from botocore.config import Config
from botocore.errorfactory import s3_exceptions
from botocore.exceptions import ClientError, NexusUnsupportedError
from botocore._nexus_params import NotOffloaded, prepare, put_checksum, validate_bucket
from botocore._nexus_responses import (REASONS, RetryQuota, back_off, convert, response_metadata, retried,
                                       retry_attempts, retry_policy)

# The model tables and StreamingBody are imported on the first call, keeping import + client creation small.

# Services with a client of the stand-in's own besides S3 (the calls functions make: botocore/_nexus_service.py),
# and where it is: service -> (module of botocore, class).
OWN_CLIENTS = {
    'lambda': ('_nexus_lambda', 'Lambda'), 'dynamodb': ('_nexus_ddb', 'DynamoDB'), 'ssm': ('_nexus_secrets', 'SSM'),
    'secretsmanager': ('_nexus_secrets', 'SecretsManager'), 'sqs': ('_nexus_messaging', 'SQS'),
    'sns': ('_nexus_messaging', 'SNS'), 'kinesis': ('_nexus_streams', 'Kinesis'),
    'firehose': ('_nexus_streams', 'Firehose'), 'stepfunctions': ('_nexus_streams', 'SFN'),
    'kms': ('_nexus_identity', 'KMS'), 'sts': ('_nexus_identity', 'STS'), 'events': ('_nexus_notify', 'EventBridge'),
    'ses': ('_nexus_notify', 'SES'), 'cloudwatch': ('_nexus_notify', 'CloudWatch'), 'sesv2': ('_nexus_notify', 'SESV2'),
    'apigatewaymanagementapi': ('_nexus_notify', 'ApiGatewayManagementApi'), 'iot-data': ('_nexus_notify', 'IoTDataPlane'),
}

# S3 operations botocore can paginate whose paginators are the real botocore's (generic path).
_PAGEABLE = frozenset(('list_object_versions', 'list_multipart_uploads', 'list_parts'))

# The HTTP method of each presignable operation (a presigned URL is for exactly that request).
_PRESIGN_VERBS = {'GetObject': 'GET', 'HeadObject': 'HEAD', 'PutObject': 'PUT', 'UploadPart': 'PUT', 'DeleteObject': 'DELETE'}


def _fast_presign(method, params, http_method):
    """The fast path's GeneratePresignedUrl request for a call, or None when its operation does not carry the call
    (another method, HTTP method or parameter): the generic path presigns those."""
    from botocore import _nexus_model as _model
    if method not in _model.PRESIGNABLE:
        return None
    operation, signable = _model.PRESIGNABLE[method]
    if http_method is not None and http_method != _PRESIGN_VERBS[operation]:
        return None
    try:
        wire = prepare(operation, method, dict(params or {}))
    except NotOffloaded:
        return None
    if any(name not in signable for name in wire):
        return None
    wire['Operation'] = operation
    return wire

_transport = None
_transport_lock = _thread.allocate_lock()


def _get_transport():
    """The process's one channel connection, opened on first use (not at import or client creation)."""
    global _transport
    if _transport is None:
        with _transport_lock:
            if _transport is None:
                if 'NEXUS_CHANNEL_FD' not in os.environ:
                    raise NexusUnsupportedError(
                        what='this call without a Nexus channel (NEXUS_CHANNEL_FD is not set: '
                             'the stand-in boto3 only works inside a nexus-mode sandbox)')
                import nexus_channel
                _transport = nexus_channel.connect_from_env()
    return _transport


def channel_errors():
    """The channel's failure classes, for except clauses (empty until the channel is loaded)."""
    channel = sys.modules.get('nexus_channel')
    error = getattr(channel, 'ChannelError', None)
    return (error,) if error is not None else ()


def channel_timeouts():
    """The channel's class for a call not answered within its timeout, for except clauses (empty until loaded)."""
    timeout = getattr(sys.modules.get('nexus_channel'), 'ChannelTimeout', None)
    return (timeout,) if timeout is not None else ()


# How the backend words its refusal of a call to a service the node has no endpoint for (Nexus.Backend's
# ServiceCalls.EndpointOf). In baseline such a call goes to the service's public endpoint, which a sandbox cannot
# reach, and botocore raises EndpointConnectionError: so does the stand-in.
_NO_ENDPOINT = 'the node has no endpoint for '


def names_no_endpoint(status, error):
    """Whether the backend's refusal (its status and {'Code', 'Message'}) says the node has no endpoint for the service."""
    return status == 501 and error.get('Code') == 'NotImplemented' and \
        error.get('Message', '').startswith(_NO_ENDPOINT)


_routed_said = False


def _say_routed(endpoint_url, explicit_credentials):
    """Once per process, in the function's log: what nexus mode does with a client's endpoint and credentials."""
    global _routed_said
    if _routed_said:
        return
    _routed_said = True
    given = ' and '.join(filter(None, (f'endpoint_url={endpoint_url!r}' if endpoint_url else '',
                                       'explicit credentials' if explicit_credentials else '')))
    sys.stderr.write(f'nexus: an S3 client was created with {given}; in nexus mode every S3 call goes over the '
                     'Nexus channel to the node, which uses its own storage endpoint and credentials within this '
                     "function's grants, so these client settings are not used (said once per process)\n")


def _set_transport(transport):
    """Install the channel connection (tests, and runtimes that already hold one)."""
    global _transport
    _transport = transport


def _offloaded(method):
    """The method of an API call: the call goes through BaseClient._make_api_call, as every botocore call does, then
    runs ``method``."""
    name = method.__name__

    def call(self, *args, **kwargs):
        if args:
            raise TypeError(f'{name}() only accepts keyword arguments.')
        return self._make_api_call(self.meta.method_to_api_mapping[name], kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    call.nexus_serves = method
    return call


class ClientEvents(EventHooks):
    """client.meta.events. The fast path emits no botocore events, so a handler registered here is registered on the
    real botocore client of the generic path, and from then on every call of this client goes through that path, where
    botocore emits its events (before-parameter-build, before-call, after-call, ...) as on the real client: the handler
    sees and can change what it would in baseline. The fast path's write-back and prefetch do not apply to such a
    client. A signer choice (choose-signer) changes nothing in nexus mode, where the sandbox signs nothing: it is
    accepted and routes nothing."""

    def __init__(self, client):
        self._client = client
        self.routed = False

    def unregister(self, event_name, handler=None, unique_id=None, unique_id_uses_count=False):
        if self.routed:
            self._client._generic().meta.events.unregister(event_name, handler, unique_id, unique_id_uses_count)

    def _add(self, how, event_name, handler, unique_id, unique_id_uses_count):
        if event_name.split('.', 1)[0] == 'choose-signer':
            return
        real = self._client._generic()
        getattr(real.meta.events, how)(event_name, handler, unique_id, unique_id_uses_count)
        self.routed = True


class ClientMeta:
    """client.meta: what handlers read from it (region, endpoint, config, service name, events). `config` is the client's
    Config as botocore computes it (never None); the stand-in's own code reads `_config`, the Config the client was
    made with (or None)."""

    def __init__(self, region_name, endpoint_url, config, client, service_model, method_to_api_mapping):
        self.events = ClientEvents(client)
        self.region_name = region_name
        self.endpoint_url = endpoint_url
        self._config = config
        self.partition = 'aws'
        self.service_model = service_model
        service_model._client = client
        self.method_to_api_mapping = method_to_api_mapping

    @property
    def config(self):
        computed = self.__dict__.get('_computed_config')
        if computed is None:
            computed = self._computed_config = client_config(self.region_name, self.service_model.service_name,
                                                             self._config)
        return computed


# The options botocore 1.29's ClientArgsCreator copies from the Config a client is made with.
_COPIED_OPTIONS = ('connect_timeout', 'read_timeout', 'max_pool_connections', 'proxies', 'proxies_config', 'retries',
                   'client_cert', 'inject_host_prefix', 'tcp_keepalive')


def client_config(region_name, service_name, given):
    """client.meta.config as botocore 1.29 computes it (ClientArgsCreator.compute_client_args): the resolved region and
    signature version, the user agent, the options it copies from the given Config, retries with their mode and
    total_max_attempts, and the s3 options."""
    import copy
    import platform

    import boto3
    import botocore
    from botocore.config import Config
    signature_version = getattr(given, 'signature_version', None) or ('s3v4' if service_name == 's3' else 'v4')
    user_agent = (f'Boto3/{boto3.__version__} Python/{platform.python_version()} '
                  f'{platform.system()}/{platform.release()} Botocore/{botocore.__version__}')
    options = {'region_name': region_name, 'signature_version': signature_version, 'user_agent': user_agent}
    if given is not None:
        if given.user_agent is not None:
            options['user_agent'] = given.user_agent
        if given.user_agent_extra:
            options['user_agent'] += ' ' + given.user_agent_extra
        for name in _COPIED_OPTIONS:
            options[name] = copy.copy(getattr(given, name))
    retries = options.get('retries')
    if retries is not None and 'total_max_attempts' in retries:
        retries.pop('max_attempts', None)
    elif retries is not None and 'max_attempts' in retries:
        retries['total_max_attempts'] = retries.pop('max_attempts') + 1
    elif os.environ.get('AWS_MAX_ATTEMPTS'):
        retries = options['retries'] = dict(retries or {}, total_max_attempts=int(os.environ['AWS_MAX_ATTEMPTS']))
    if retries is None:
        retries = options['retries'] = {}
    retries.setdefault('mode', os.environ.get('AWS_RETRY_MODE') or 'legacy')
    if service_name == 's3':
        options['s3'] = copy.copy(getattr(given, 's3', None))
    return Config(**options)


class ServiceId(str):
    """botocore's service id (client.meta.service_model.service_id: 'S3', 'DynamoDB'), as its events name it."""

    def hyphenize(self):
        return self.lower().replace(' ', '-')


class ServiceModel:
    """client.meta.service_model (and client._service_model, which tracers read): the service's botocore name and its
    model's metadata, and what botocore's ServiceModel derives from them. The rest of botocore's ServiceModel
    (operation_names, operation_model, shape_for, ...) is the real botocore's model of the service, loaded with the
    client's generic path on first use."""

    def __init__(self, service_name, metadata):
        self.service_name = service_name
        self.metadata = metadata
        self.api_version = metadata['apiVersion']
        self.protocol = metadata['protocol']
        self.endpoint_prefix = metadata['endpointPrefix']
        self.signing_name = metadata.get('signingName', self.endpoint_prefix)
        self.service_id = ServiceId(metadata['serviceId'])
        self._client = None   # the client whose real botocore model answers the rest (ClientMeta sets it)

    def __getattr__(self, name):
        client = self.__dict__.get('_client')
        if name.startswith('_') or client is None:
            raise AttributeError(f"'ServiceModel' object has no attribute '{name}'")
        return getattr(client._generic().meta.service_model, name)


# botocore 1.29's S3 model metadata (the fast path reads no model file).
_S3_METADATA = {'apiVersion': '2006-03-01', 'checksumFormat': 'md5', 'endpointPrefix': 's3',
                'globalEndpoint': 's3.amazonaws.com', 'protocol': 'rest-xml', 'serviceAbbreviation': 'Amazon S3',
                'serviceFullName': 'Amazon Simple Storage Service', 'serviceId': 'S3', 'signatureVersion': 's3',
                'uid': 's3-2006-03-01'}


_METHOD_NAMES = {}   # operation -> botocore's method name (xform_name), as calls ask for them


class BaseClient:
    """Base class of generated clients in botocore; isinstance checks against it keep working. Every API call of a
    stand-in client goes through its _make_api_call, as in botocore, so tracers that wrap that method (AWS X-Ray, and
    the Lambda Powertools Tracer over it, patch botocore so) see each call: operation, parameters, answer or error."""

    @property
    def _service_model(self):
        return self.meta.service_model

    def _make_api_call(self, operation_name, api_params):
        """botocore's one entry of every API call: the stand-in's method of the operation (_offloaded), or the generic
        path's when the client has event handlers, when the call has a parameter the channel does not carry (nothing
        has been sent when prepare finds one) or when the client does not serve the operation."""
        name = _METHOD_NAMES.get(operation_name)
        if name is None:
            from botocore import xform_name
            name = _METHOD_NAMES[operation_name] = xform_name(operation_name)
        method = self.__dict__.get(name) or getattr(type(self), name, None)
        serves = getattr(getattr(method, '__func__', method), 'nexus_serves', None)
        if serves is not None and not self.meta.events.routed:
            try:
                return serves(self, **api_params)
            except NotOffloaded:
                pass
        return getattr(self._generic(), name)(**api_params)


def _s3_endpoint(region):
    """The endpoint botocore 1.29 names for S3 in the region (meta.endpoint_url; the node chooses where calls go): the
    legacy global one for us-east-1 unless AWS_S3_US_EAST_1_REGIONAL_ENDPOINT=regional."""
    if region == 'us-east-1' and os.environ.get('AWS_S3_US_EAST_1_REGIONAL_ENDPOINT', 'legacy') != 'regional':
        return 'https://s3.amazonaws.com'
    return f"https://s3.{region}.{'amazonaws.com.cn' if region.startswith('cn-') else 'amazonaws.com'}"


class S3Meta(ClientMeta):
    """The S3 client's meta: its method_to_api_mapping names every S3 operation, as botocore's does (made on first use,
    from the model table the first call loads anyway)."""

    def __init__(self, *args):
        super().__init__(*args)
        del self.method_to_api_mapping   # read on first use (cached_property: a set value shadows it)

    @functools.cached_property
    def method_to_api_mapping(self):
        from botocore import _nexus_model as _model
        # S3's operation names are its method names in CamelCase ('list_objects_v2': 'ListObjectsV2').
        return {name: ''.join(part.capitalize() for part in name.split('_'))
                for name in sorted(_model.ALL_METHODS) if not name.startswith('generate_presigned_')}


class S3(BaseClient):
    """The S3 client: the operations the Nexus channel offloads, plus boto3's injected helpers."""

    def __init__(self, region_name=None, endpoint_url=None, config=None, explicit_credentials=False):
        region = region_name or (config.region_name if config is not None else None) or \
            os.environ.get('AWS_DEFAULT_REGION') or os.environ.get('AWS_REGION') or 'us-east-1'
        self.meta = S3Meta(region, endpoint_url or _s3_endpoint(region), config, self, ServiceModel('s3', _S3_METADATA),
                           None)
        self.exceptions = s3_exceptions()
        self._retry_quota = RetryQuota()
        if endpoint_url or explicit_credentials:
            _say_routed(endpoint_url, explicit_credentials)

    def __getattr__(self, name):
        from botocore import _nexus_model as _model
        if name in _model.ALL_METHODS and name != 'generate_presigned_post':
            # Not served by the fast path: the real botocore's method, its requests sent over the channel (generic path).
            return getattr(self._generic(), name)
        raise AttributeError(f"'S3' object has no attribute '{name}'")

    def __dir__(self):
        # The methods of the generic path too, so dir() lists every S3 method, as on botocore's client.
        from botocore import _nexus_model as _model
        return sorted(set(super().__dir__()) | _model.ALL_METHODS)

    def _generic(self):
        """The real botocore S3 client behind this one (loaded on first need), for calls the fast path does not serve."""
        real = self.__dict__.get('_real')
        if real is None:
            from botocore import _nexus_generic
            real = self._real = _nexus_generic.real_s3_client(self.meta.region_name, self.meta._config)
        return real

    def _call(self, operation, method, params):
        """One boto3 call as one channel request. Returns (status, meta, raw body) or raises the botocore exception."""
        body = None
        wire = prepare(operation, method, params)
        if operation in ('PutObject', 'CreateMultipartUpload'):
            # S3 stores an object sent without Content-Type as binary/octet-stream; say so explicitly,
            # because the backend's SDK would otherwise pick its own default.
            wire.setdefault('ContentType', 'binary/octet-stream')
        if operation in ('PutObject', 'UploadPart'):
            body = params.get('Body', b'')
            if isinstance(body, str):
                body = body.encode('utf-8')
            body = put_checksum(params, wire, body, method)
        wire_operation = operation
        if operation == 'ListObjects':
            wire_operation = 'ListObjectsV2'
            if 'Marker' in wire:
                wire['StartAfter'] = wire.pop('Marker')
            # S3's v1 listing always names each entry's owner; v2 only when asked.
            wire['FetchOwner'] = True
        status, meta, raw = self._call_wire(wire_operation, operation, wire, body)
        if operation in ('GetObject', 'HeadObject') and params.get('ChecksumMode') != 'ENABLED':
            from botocore import _nexus_model as _model
            for name in _model.CHECKSUM_FIELDS:
                meta.pop(name, None)
        return status, meta, raw

    def _call_wire(self, wire_operation, operation, wire, body):
        """Send one prepared request; errors become the botocore exception of ``operation``. An answer that has not
        started within the client's read_timeout is botocore's ReadTimeoutError, retried as botocore retries it (the
        backend's SDK retries the store's error answers itself)."""
        config = self.meta._config
        timeout = config.read_timeout if config is not None else 60
        mode, attempts = retry_policy(config)
        # A file body is sent again from where it started, as botocore rewinds a seekable body before a retry.
        start = None
        if hasattr(body, 'seek'):
            try:
                start = body.tell()
            except (OSError, ValueError):   # an unseekable stream (io.UnsupportedOperation) is sent once
                pass
        attempt = 1
        quota_taken = None
        while True:
            try:
                response = _get_transport().call(wire_operation, wire, body, timeout=timeout)
                break
            except channel_errors() as e:
                # The host end is gone or broke the protocol: what botocore raises when its connection drops.
                from botocore.exceptions import ConnectionClosedError
                raise ConnectionClosedError(endpoint_url=f'{self.meta.endpoint_url} (Nexus channel: {e})') from e
            except channel_timeouts():
                from botocore.exceptions import ReadTimeoutError
                rewindable = body is None or isinstance(body, (bytes, bytearray, memoryview, str)) or start is not None
                if attempt >= attempts or not rewindable:
                    raise ReadTimeoutError(endpoint_url=self.meta.endpoint_url) from None
                if mode != 'legacy':
                    if not self._retry_quota.acquire(10):
                        raise ReadTimeoutError(endpoint_url=self.meta.endpoint_url) from None
                    quota_taken = 10
                back_off(mode, attempt)
                if start is not None:
                    body.seek(start)
                attempt += 1
        status = response.status
        if mode != 'legacy' and status < 300:
            self._retry_quota.release(quota_taken or 1)
        meta = response.meta if response.meta is not None else {}
        if status >= 300:
            raw = getattr(response, 'body', None)
            if raw is not None:
                raw.close()
            raise self._error(operation, status, meta)
        return status, meta, getattr(response, 'body', None)

    def _error(self, operation, status, meta):
        error = meta.get('Error') or {}
        if operation in ('HeadObject', 'HeadBucket') or status == 304 or not error.get('Code'):
            # S3 sends no body with these, so botocore can only report the HTTP status.
            error = {'Code': str(status), 'Message': REASONS.get(status, '')}
        response = {'Error': dict(error)}
        response['ResponseMetadata'] = response_metadata(status, meta, {})
        if retried(self.meta._config, status, error['Code']):
            # botocore would have retried this itself and says so; the backend's SDK did the retrying here.
            response['ResponseMetadata']['MaxAttemptsReached'] = True
            response['ResponseMetadata']['RetryAttempts'] = retry_attempts(self.meta._config)
        return self.exceptions.from_code(error['Code'])(response, operation)

    def _finish(self, operation, status, meta, body):
        """Close any unexpected body and build the botocore-shaped response dict."""
        if body is not None:
            body.close()
        meta = convert(operation, meta)
        meta['ResponseMetadata'] = response_metadata(status, meta, meta)
        return meta

    @_offloaded
    def get_object(self, **kwargs):
        status, meta, raw = self._call('GetObject', 'get_object', kwargs)
        meta = convert('GetObject', meta)
        meta['ResponseMetadata'] = response_metadata(status, meta, meta)
        from botocore.response import StreamingBody, _EmptyRaw
        meta['Body'] = StreamingBody(raw if raw is not None else _EmptyRaw(), meta.get('ContentLength'))
        return meta

    @_offloaded
    def put_object(self, **kwargs):
        return self._finish('PutObject', *self._call('PutObject', 'put_object', kwargs))

    @_offloaded
    def head_object(self, **kwargs):
        return self._finish('HeadObject', *self._call('HeadObject', 'head_object', kwargs))

    @_offloaded
    def delete_object(self, **kwargs):
        return self._finish('DeleteObject', *self._call('DeleteObject', 'delete_object', kwargs))

    @_offloaded
    def delete_objects(self, **kwargs):
        return self._finish('DeleteObjects', *self._call('DeleteObjects', 'delete_objects', kwargs))

    @_offloaded
    def list_objects_v2(self, **kwargs):
        return self._finish('ListObjectsV2', *self._call('ListObjectsV2', 'list_objects_v2', kwargs))

    @_offloaded
    def copy_object(self, **kwargs):
        return self._finish('CopyObject', *self._call('CopyObject', 'copy_object', kwargs))

    @_offloaded
    def head_bucket(self, **kwargs):
        response = self._finish('HeadBucket', *self._call('HeadBucket', 'head_bucket', kwargs))
        # S3 names the bucket's region in a header (botocore 1.29 has no BucketRegion field); a function may read it
        # there to find where a bucket is. The node's buckets are in its region, the one it gives the sandbox.
        response['ResponseMetadata']['HTTPHeaders']['x-amz-bucket-region'] = os.environ.get('AWS_REGION', 'us-east-1')
        return response

    @_offloaded
    def create_bucket(self, **kwargs):
        return self._finish('CreateBucket', *self._call('CreateBucket', 'create_bucket', kwargs))

    @_offloaded
    def list_buckets(self, **kwargs):
        return self._finish('ListBuckets', *self._call('ListBuckets', 'list_buckets', kwargs))

    @_offloaded
    def get_object_tagging(self, **kwargs):
        return self._finish('GetObjectTagging', *self._call('GetObjectTagging', 'get_object_tagging', kwargs))

    @_offloaded
    def put_object_tagging(self, **kwargs):
        return self._finish('PutObjectTagging', *self._call('PutObjectTagging', 'put_object_tagging', kwargs))

    @_offloaded
    def delete_object_tagging(self, **kwargs):
        return self._finish('DeleteObjectTagging', *self._call('DeleteObjectTagging', 'delete_object_tagging', kwargs))

    @_offloaded
    def create_multipart_upload(self, **kwargs):
        return self._finish('CreateMultipartUpload', *self._call('CreateMultipartUpload', 'create_multipart_upload', kwargs))

    @_offloaded
    def upload_part(self, **kwargs):
        return self._finish('UploadPart', *self._call('UploadPart', 'upload_part', kwargs))

    @_offloaded
    def complete_multipart_upload(self, **kwargs):
        return self._finish('CompleteMultipartUpload',
                            *self._call('CompleteMultipartUpload', 'complete_multipart_upload', kwargs))

    @_offloaded
    def abort_multipart_upload(self, **kwargs):
        return self._finish('AbortMultipartUpload', *self._call('AbortMultipartUpload', 'abort_multipart_upload', kwargs))

    @_offloaded
    def list_parts(self, **kwargs):
        return self._finish('ListParts', *self._call('ListParts', 'list_parts', kwargs))

    def generate_presigned_url(self, ClientMethod, Params=None, ExpiresIn=3600, HttpMethod=None):
        """Signed by the backend (the sandbox holds no credentials) for the node's storage endpoint, within the grants:
        the fast path's operations with the parameters it carries as they are, any other call as the real botocore
        serializes it (the generic path's request, which the backend checks as it checks that path's calls)."""
        from botocore import _nexus_model as _model
        if ClientMethod not in _model.ALL_METHODS:
            from botocore.exceptions import UnknownClientMethodError
            raise UnknownClientMethodError(method_name=ClientMethod)
        wire = None if self.meta.events.routed else _fast_presign(ClientMethod, Params, HttpMethod)
        if wire is None:
            # The real botocore serializes the request; its signer hands it to the backend (_nexus_generic).
            return self._generic().generate_presigned_url(ClientMethod, Params=Params, ExpiresIn=ExpiresIn,
                                                          HttpMethod=HttpMethod)
        wire['ExpiresIn'] = ExpiresIn
        status, meta, body = self._call_wire('GeneratePresignedUrl', 'GeneratePresignedUrl', wire, None)
        if body is not None:
            body.close()
        return meta['Url']

    def generate_presigned_post(self, Bucket, Key, Fields=None, Conditions=None, ExpiresIn=3600):
        """A browser-form upload to the node's storage endpoint; the backend writes the policy's bucket and key
        conditions and signs it with the node's key, within the grants (Conditions given here can only narrow it)."""
        validate_bucket({'Bucket': Bucket})
        wire = {'Operation': 'PostObject', 'Bucket': Bucket, 'Key': Key, 'Fields': dict(Fields or {}),
                'Conditions': [list(c) if isinstance(c, tuple) else c for c in Conditions or ()], 'ExpiresIn': ExpiresIn}
        status, meta, body = self._call_wire('GeneratePresignedUrl', 'GeneratePresignedPost', wire, None)
        if body is not None:
            body.close()
        return {'url': meta['Url'], 'fields': meta['Fields']}

    @_offloaded
    def list_objects(self, **kwargs):
        """ListObjects (v1), carried as ListObjectsV2 (Marker -> StartAfter) and answered in v1's shape."""
        status, meta, body = self._call('ListObjects', 'list_objects', kwargs)
        for name in ('KeyCount', 'ContinuationToken', 'NextContinuationToken', 'StartAfter'):
            meta.pop(name, None)
        meta['Marker'] = kwargs.get('Marker', '')
        if meta.get('IsTruncated'):
            # The store names the last key or common prefix of the page, with or without a delimiter.
            last = [c['Key'] for c in meta.get('Contents') or ()] + [c['Prefix'] for c in meta.get('CommonPrefixes') or ()]
            if last:
                meta['NextMarker'] = max(last)
        return self._finish('ListObjectsV2', status, meta, body)

    def can_paginate(self, operation_name):
        return operation_name in ('list_objects_v2', 'list_objects') or operation_name in _PAGEABLE

    def get_paginator(self, operation_name):
        from botocore.paginate import S3_PAGINATORS, Paginator
        if operation_name not in S3_PAGINATORS:
            if operation_name in _PAGEABLE:
                return self._generic().get_paginator(operation_name)
            from botocore.exceptions import OperationNotPageableError
            raise OperationNotPageableError(operation_name=operation_name)
        return Paginator(getattr(self, operation_name), S3_PAGINATORS[operation_name])

    @property
    def waiter_names(self):
        return ['bucket_exists', 'bucket_not_exists', 'object_exists', 'object_not_exists']

    def get_waiter(self, waiter_name):
        names = {'object_exists': 'ObjectExists', 'object_not_exists': 'ObjectNotExists'}
        if waiter_name not in names:
            if waiter_name in self.waiter_names:
                return self._generic().get_waiter(waiter_name)
            raise ValueError('Waiter does not exist: %s' % waiter_name)
        from botocore.waiter import S3_WAITERS, waiter_class
        name = names[waiter_name]
        return waiter_class('S3', name)(name, S3_WAITERS[name], self.head_object)

    def upload_file(self, Filename, Bucket, Key, ExtraArgs=None, Callback=None, Config=None):
        from boto3.s3 import transfer
        return transfer.upload_file(self, Filename, Bucket, Key, ExtraArgs, Callback, Config)

    def download_file(self, Bucket, Key, Filename, ExtraArgs=None, Callback=None, Config=None):
        from boto3.s3 import transfer
        return transfer.download_file(self, Bucket, Key, Filename, ExtraArgs, Callback)

    def upload_fileobj(self, Fileobj, Bucket, Key, ExtraArgs=None, Callback=None, Config=None):
        if not hasattr(Fileobj, 'read'):
            raise ValueError('Fileobj must implement read')
        from boto3.s3 import transfer
        return transfer.upload_fileobj(self, Fileobj, Bucket, Key, ExtraArgs, Callback, Config)

    def download_fileobj(self, Bucket, Key, Fileobj, ExtraArgs=None, Callback=None, Config=None):
        if not hasattr(Fileobj, 'write'):
            raise ValueError('Fileobj must implement write')
        from boto3.s3 import transfer
        return transfer.download_fileobj(self, Bucket, Key, Fileobj, ExtraArgs, Callback)

    def copy(self, CopySource, Bucket, Key, ExtraArgs=None, Callback=None, SourceClient=None, Config=None):
        from boto3.s3 import transfer
        return transfer.copy(self, CopySource, Bucket, Key, ExtraArgs, Callback, Config, SourceClient)

    def close(self):
        """Nothing to release per client: the channel belongs to the process."""


__all__ = ['BaseClient', 'ClientError', 'Config', 'S3']
