# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The generic path: every boto3 call the stand-in does not serve itself, through the real SDK.

The function image holds Debian's real botocore and boto3 under the stand-in (which is first on sys.path). The first
call that needs them loads them beside the stand-in: for the length of the import, the stand-in's modules leave
sys.modules and its folder leaves sys.path, so the real packages import under their own names; then the stand-in is
put back and the real modules are kept here, reachable only through this module. Exception classes the stand-in
defines are bound into the real botocore before anything else of it loads, so except clauses written against either
catch both, and the Key/Attr conditions a handler built with the stand-in are the ones the real DynamoDB layer accepts.

Each real client's HTTP layer is replaced by one channel operation (ServiceRequest): botocore serializes the request as
usual, unsigned (the sandbox has no credentials), and hands it to ``_send_over_channel`` through its ``before-send``
event; the backend validates it, checks it against the function's grants, signs it with the node's credentials, sends
it to the endpoint the node configures for the service, and answers with status, headers and body, which botocore
parses as it parses any HTTP response. No socket is opened in the sandbox (botocore imports urllib3 at load; nothing
of it is used).
"""

import importlib
import io
import os
import sys
import threading

from boto3.dynamodb import conditions as stand_in_conditions
from boto3.dynamodb import types as stand_in_types
from botocore import UNSIGNED as stand_in_unsigned
from botocore import exceptions as stand_in_exceptions
from botocore.exceptions import ClientError, NexusUnsupportedError

# Top-level packages the stand-in shadows; the real ones are imported with these names during the swap.
_SHADOWED = ('boto3', 'botocore')

_lock = threading.RLock()
_real = None            # name -> real module, once loaded
_said_routed = set()    # services whose endpoint/credentials message was written


def _shadowed(name):
    return any(name == top or name.startswith(top + '.') for top in _SHADOWED)


def real_module(name):
    """The real SDK's module ``name`` (loading the real SDK, or that module of it, on first need)."""
    modules = _load()
    module = modules.get(name)
    if module is None:
        with _lock:
            module = modules.get(name)
            if module is None:
                modules.update(_import_beside_stand_in(name))
                module = modules[name]
    return module


def _load():
    global _real
    if _real is None:
        with _lock:
            if _real is None:
                _real = _import_beside_stand_in('botocore.exceptions', _bind_stand_in_exceptions,
                                                'boto3.dynamodb.conditions', _bind_stand_in_conditions,
                                                'botocore.session', 'botocore.awsrequest', 'boto3.session',
                                                'boto3.dynamodb.transform', 'boto3.dynamodb.table',
                                                'boto3.dynamodb.types', _bind_stand_in_types, _bind_presigning)
                # boto3 resolves its lazily registered handlers (DynamoDB's high-level interface, ...) by name at
                # call time; the name must find the real module, not the stand-in.
                _real['boto3.utils'].import_module = real_module
    return _real


def _import_beside_stand_in(*steps):
    """Imports the real modules named in ``steps`` (a callable step runs on what is loaded so far); returns them all."""
    stand_in_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    saved_modules = {name: module for name, module in sys.modules.items() if _shadowed(name)}
    saved_path = list(sys.path)
    for name in saved_modules:
        del sys.modules[name]
    sys.path[:] = [p for p in saved_path if os.path.abspath(p or '.') != stand_in_dir]
    if _real is not None:
        sys.modules.update(_real)
    try:
        for step in steps:
            if callable(step):
                step(sys.modules)
            else:
                importlib.import_module(step)
        return {name: module for name, module in sys.modules.items() if _shadowed(name)}
    except ImportError as e:
        raise NexusUnsupportedError(
            what=f'the real AWS SDK for this call ({e}; the function image has botocore and boto3 under '
                 '/usr/lib/python3/dist-packages)') from e
    finally:
        for name in [n for n in sys.modules if _shadowed(n)]:
            del sys.modules[name]
        sys.modules.update(saved_modules)
        sys.path[:] = saved_path


def _bind_stand_in_exceptions(modules):
    """The real botocore raises the stand-in's classes for every name both define (ClientError, ParamValidationError, ...),
    and its UNSIGNED is the stand-in's (bound before the modules that import it load), so a Config a handler made with
    the stand-in's means the same to it."""
    modules['botocore'].UNSIGNED = stand_in_unsigned
    real = modules['botocore.exceptions']
    for name, value in vars(stand_in_exceptions).items():
        if isinstance(value, type) and issubclass(value, BaseException) and hasattr(real, name):
            setattr(real, name, value)


def _bind_stand_in_conditions(modules):
    """Conditions built with the stand-in's Key/Attr are what the real expression builder recognises."""
    real = modules['boto3.dynamodb.conditions']
    for name in ('ConditionBase', 'AttributeBase', 'Key', 'Attr'):
        setattr(real, name, getattr(stand_in_conditions, name))


def _bind_stand_in_types(modules):
    """The real DynamoDB layer serializes the stand-in's Binary and makes it when it deserializes (its functions look
    the name up in their module when they run)."""
    modules['boto3.dynamodb.types'].Binary = stand_in_types.Binary


# ---- sessions and clients --------------------------------------------------------------------------------------


class _NoCredentials:
    """The sandbox holds none, and must not look for any (the chain would ask the container and instance metadata)."""

    def load_credentials(self):
        return None


def real_boto3_session(region_name=None):
    """A real boto3 Session whose clients send every request over the channel, unsigned."""
    modules = _load()
    core = modules['botocore.session'].get_session()
    core.register_component('credential_provider', _NoCredentials())
    unsigned = modules['botocore'].UNSIGNED
    # First: botocore's own choose-signer handler would pick SigV4 where an endpoint rule names an auth scheme (STS's
    # global endpoint), and no credentials are here to sign with.
    core.get_component('event_emitter').register_first('choose-signer', lambda **kwargs: unsigned)
    core.register('before-call', _note_call)
    core.register('before-send', _send_over_channel)
    create_client = core.create_client

    def create_named_client(*args, **kwargs):
        # The presigned URL's service, as the node names it (botocore's name; the signer knows only the service id).
        client = create_client(*args, **kwargs)
        client._request_signer.nexus_service = client.meta.service_model.service_name
        return client
    core.create_client = create_named_client
    # Real clients of the services the stand-in has clients for (the calls those do not serve) raise the stand-in's
    # modeled classes, so `except client.exceptions.X` catches errors of both paths.
    from botocore._nexus_model_clients import built_classes
    from botocore._nexus_service import own_client_class
    from botocore.client import OWN_CLIENTS
    cache = core._get_internal_component('exceptions_factory')._client_exceptions_cache
    for service in OWN_CLIENTS:
        cache[service] = own_client_class(service).exceptions_of_service()
    for service, client_class in built_classes():
        cache[service] = client_class.exceptions_of_service()
    _sessions.append(cache)
    return modules['boto3.session'].Session(botocore_session=core, region_name=region_name)


_sessions = []   # the exception caches of the real sessions made here


def share_exceptions(service, exceptions):
    """A model-read client made after real sessions were: their clients of its service raise its classes too."""
    for cache in _sessions:
        cache[service] = exceptions


# The real S3 client's endpoint: a placeholder, because only the path and query of its requests travel (the backend
# sends them to the node's storage endpoint); path-style addressing keeps the bucket in the path.
_S3_PLACEHOLDER_ENDPOINT = 'https://s3.nexus.invalid'
_s3_session = None


def real_s3_client(region_name, config):
    """A real botocore S3 client for the calls the fast path does not serve; the client's own Config options are kept."""
    global _s3_session
    modules = _load()
    with _lock:
        if _s3_session is None:
            _s3_session = real_boto3_session(region_name)
            # The real client raises the stand-in's modeled classes (NoSuchUpload, ...), so
            # `except s3.exceptions.NoSuchUpload` catches errors of both paths.
            from botocore.errorfactory import s3_exceptions
            factory = _s3_session._session._get_internal_component('exceptions_factory')
            factory._client_exceptions_cache['s3'] = s3_exceptions()
    options = dict(config._user_provided_options) if config is not None else {}
    options['s3'] = dict(options.get('s3') or {}, addressing_style='path')
    options['signature_version'] = modules['botocore'].UNSIGNED
    return _s3_session.client('s3', region_name=region_name, endpoint_url=_S3_PLACEHOLDER_ENDPOINT,
                              config=modules['botocore.config'].Config(**options))


def say_routed(service_name, endpoint_url, explicit_credentials):
    """Once per service and process, in the function's log: what the node does with a client's endpoint and credentials."""
    if not (endpoint_url or explicit_credentials) or service_name in _said_routed:
        return
    _said_routed.add(service_name)
    given = ' and '.join(filter(None, (f'endpoint_url={endpoint_url!r}' if endpoint_url else '',
                                       'explicit credentials' if explicit_credentials else '')))
    from urllib.parse import urlsplit
    kept = ''
    if endpoint_url and urlsplit(endpoint_url).path not in ('', '/'):
        kept = ", except the endpoint's path, which a REST API's requests keep (an API Gateway stage)"
    sys.stderr.write(f'nexus: a {service_name} client was created with {given}; in nexus mode its calls go over the '
                     'Nexus channel to the node, which sends them to the endpoint it configures for '
                     f"{service_name}, signed with its own credentials within this function's grants, so these "
                     f'client settings are not used{kept} (said once per process)\n')


# ---- the HTTP layer: one channel operation --------------------------------------------------------------------


class _ChannelBody:
    """The response body in the slots, as botocore reads an HTTP body (stream() for parsers, read() for StreamingBody)."""

    def __init__(self, body):
        self._body = body

    def read(self, amt=None):
        if self._body is None:
            return b''
        return self._body.read(-1 if amt is None else amt)

    def stream(self, **kwargs):
        while True:
            chunk = self.read(1 << 20)
            if not chunk:
                return
            yield chunk

    def close(self):
        if self._body is not None:
            self._body.close()

    def release_conn(self):
        self.close()


def _serialized(service, operation, request):
    """A request botocore serialized, as the backend takes it: {Service, Operation, Method, Path (with query), Headers}."""
    url = request.url
    if service == 's3' and not url.startswith(_S3_PLACEHOLDER_ENDPOINT + '/'):
        # Only the path travels, so the bucket must be in it: an access point ARN names its bucket in the host.
        raise NexusUnsupportedError(what=f'an S3 request botocore addressed to {url.split("?")[0]!r} (an access point ARN as bucket)')
    scheme_end = url.find('://')
    path_start = url.find('/', scheme_end + 3 if scheme_end >= 0 else 0)
    path = url[path_start:] if path_start >= 0 else '/'
    headers = {str(k): (v.decode('ascii') if isinstance(v, bytes) else str(v)) for k, v in request.headers.items()}
    return {'Service': service, 'Operation': operation, 'Method': request.method, 'Path': path, 'Headers': headers}


_calls = threading.local()


def _note_call(model, context, **kwargs):
    """botocore's before-call hook: what _send_over_channel needs of the call, for each of its attempts (the same thread
    sends them): the calling client's read_timeout, and the service's botocore name (botocore's events name it by its
    service id, 'sfn' for stepfunctions, 'eventbridge' for events, which the node does not know it by)."""
    config = context.get('client_config')
    _calls.read_timeout = config.read_timeout if config is not None else 60
    _calls.service = model.service_model.service_name


def _send_over_channel(request, event_name, **kwargs):
    """botocore's before-send hook: the serialized, unsigned request goes to the backend; its answer is the response.
    An answer that has not started within the client's read_timeout is botocore's ReadTimeoutError, which botocore
    retries as it retries its own."""
    from botocore.client import _get_transport, channel_errors, channel_timeouts, names_no_endpoint
    _, service_id, operation = event_name.split('.', 2)
    service = getattr(_calls, 'service', service_id)
    url = request.url
    body = request.body
    if isinstance(body, str):
        body = body.encode('utf-8')
    elif hasattr(body, 'read'):
        body = body.read()  # a streamed S3 body (put_object with a file object)
    wire = _serialized(service, operation, request)
    if not any(name.lower() == 'accept-encoding' for name in wire['Headers']):
        # What http.client adds to every request botocore sends: the service receives the real botocore's request.
        wire['Headers']['Accept-Encoding'] = 'identity'
    modules = _load()
    try:
        response = _get_transport().call('ServiceRequest', wire, body if body is not None else b'',
                                         timeout=getattr(_calls, 'read_timeout', 60))
    except channel_errors() as e:
        raise modules['botocore.exceptions'].ConnectionClosedError(endpoint_url=f'{url} (Nexus channel: {e})') from e
    except channel_timeouts():
        raise modules['botocore.exceptions'].ReadTimeoutError(endpoint_url=url) from None
    meta = response.meta or {}
    awsrequest = modules['botocore.awsrequest']
    if 'Headers' not in meta:
        # The backend refused the request itself (grants, validation): nothing reached the service, so no request id
        # came back; one of S3's shape is made, as the fast path does.
        if response.body is not None:
            response.body.close()
        error = dict(meta.get('Error') or {'Code': str(response.status), 'Message': ''})
        if names_no_endpoint(response.status, error):
            # Raised here, botocore retries it as it retries its own failed connections.
            raise modules['botocore.exceptions'].EndpointConnectionError(endpoint_url=url)
        request_id = os.urandom(8).hex().upper()
        if service == 's3':
            # xml.sax.saxutils loads urllib.request (http.client, ssl): imported here, not with say_routed.
            from xml.sax.saxutils import escape
            # As S3 would have sent it (a HEAD answer without body), so botocore parses it as its own: modeled
            # classes, the status alone for a HEAD, per-operation quirks such as GetBucketLocation's.
            resource = f'<Resource>{escape(error["Resource"])}</Resource>' if 'Resource' in error else ''
            document = '' if request.method == 'HEAD' else (
                f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{escape(error.get("Code", ""))}</Code>'
                f'<Message>{escape(error.get("Message", ""))}</Message>{resource}<RequestId>{request_id}</RequestId></Error>')
            return awsrequest.AWSResponse(url, response.status, awsrequest.HeadersDict(
                {'x-amz-request-id': request_id, 'content-type': 'application/xml'}), _ChannelBody(io.BytesIO(document.encode())))
        raise ClientError({'Error': error, 'ResponseMetadata': {'RequestId': request_id, 'HTTPStatusCode': response.status,
                                                                'HTTPHeaders': {}, 'RetryAttempts': 0}}, operation)
    return awsrequest.AWSResponse(url, response.status, awsrequest.HeadersDict(meta['Headers']),
                                  _ChannelBody(response.body))


# ---- presigned URLs: the request the real botocore would sign, signed by the backend --------------------------------


def _presign_over_channel(self, request_dict, operation_name, expires_in=3600, region_name=None, signing_name=None):
    """The real botocore's RequestSigner.generate_presigned_url in the sandbox, where it signs nothing: the request it
    would sign (its before-sign handlers run, as S3's need) goes to the backend, which signs it (botocore/_nexus_presign.py).
    Every presigned URL of a real client comes here: generate_presigned_url, generate_db_auth_token, and those
    botocore's handlers inject (EC2's CopySnapshot, RDS's cross-region copies)."""
    from urllib.parse import urlsplit
    from botocore import _nexus_presign
    modules = _load()
    request = modules['botocore.awsrequest'].create_request_object(request_dict)
    self.sign(operation_name, request, region_name, 'presign-url', expires_in, signing_name)
    if (signing_name or self._signing_name) == 'rds-db':
        # generate_db_auth_token: https://HOST:PORT/ with Action=connect and DBUser (the URL keeps the host's case).
        # generate_db_auth_token cuts the scheme off the URL it gets; the backend's token has none.
        host, _, port = urlsplit(request.url).netloc.rpartition(':')
        return 'https://' + _nexus_presign.db_auth_token(host, int(port), dict(request.data)['DBUser'],
                                                         region_name or self._region_name)
    service = getattr(self, 'nexus_service', None) or self._service_id.hyphenize()
    if service != 's3':
        _parameters_into_query(modules, request)
    wire = _serialized(service, operation_name, request)
    wire['Headers'] = _nexus_presign.signed_headers_of(wire['Headers'])
    presign = {'Operation': 'ServiceRequest', 'Request': wire, 'ExpiresIn': expires_in}
    if region_name is not None and service != 's3':
        presign['Region'] = region_name
    return _nexus_presign.signed_by_backend(presign)


def _parameters_into_query(modules, request):
    """What botocore's SigV4QueryAuth does to a request before it presigns it (the form content type dropped, the
    parameters and body moved into the query), done by botocore's own code, without the X-Amz-* parameters it adds: the
    backend writes those."""
    from urllib.parse import urlsplit, urlunsplit
    auth = modules['botocore.auth'].SigV4QueryAuth(modules['botocore.credentials'].Credentials('-', '-'), '-', '-')
    request.context.setdefault('timestamp', '19700101T000000Z')
    auth._modify_request_before_signing(request)
    parts = urlsplit(request.url)
    query = '&'.join(pair for pair in parts.query.split('&') if pair and not pair.startswith('X-Amz-'))
    request.url = urlunsplit(parts._replace(query=query))


def _bind_presigning(modules):
    """Every real RequestSigner presigns over the channel."""
    modules['botocore.signers'].RequestSigner.generate_presigned_url = _presign_over_channel
