# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The S3 client of the Nexus stand-in SDK.

Each API call is validated like botocore validates it, then sent as one request
on the Nexus channel (package ``nexus_channel``); the backend on the host runs it
against the store and answers with the boto3 response fields as JSON. This
module turns that answer into exactly what botocore would have returned.
"""

import os
import sys
import _thread

from botocore.config import Config
from botocore.errorfactory import s3_exceptions
from botocore.exceptions import ClientError, NexusUnsupportedError, ParamValidationError

# The model tables and StreamingBody are imported on the first call, keeping import + client creation small.

# http.client.responses for the statuses S3 answers with (http.client itself is not imported in the sandbox).
_REASONS = {
    301: 'Moved Permanently', 304: 'Not Modified', 307: 'Temporary Redirect', 400: 'Bad Request',
    401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
    408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 412: 'Precondition Failed',
    413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 416: 'Requested Range Not Satisfiable',
    429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
    503: 'Service Unavailable', 504: 'Gateway Timeout',
}

_BUCKET_CHARS = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_')
_BUCKET_REGEX = r'^[a-zA-Z0-9.\-_]{1,255}$'
_ARN_REGEX = (
    r'^arn:(aws).*:(s3|s3-object-lambda):[a-z\-0-9]*:[0-9]{12}:accesspoint[/:][a-zA-Z0-9\-.]{1,63}$|'
    r'^arn:(aws).*:s3-outposts:[a-z\-0-9]+:[0-9]{12}:outpost[/:][a-zA-Z0-9\-]{1,63}[/:]accesspoint[/:]'
    r'[a-zA-Z0-9\-]{1,63}$')

_TYPE_NAMES = {
    's': "<class 'str'>", 'i': "<class 'int'>", 'b': "<class 'bool'>", 'm': "<class 'dict'>",
    'D': "<class 'dict'>", 'L': "<class 'list'>, <class 'tuple'>",
    'B': "<class 'bytes'>, <class 'bytearray'>, file-like object",
    't': "<class 'datetime.datetime'>, timestamp-string",
}

# S3 operations botocore can paginate whose paginators are the real botocore's (generic path).
_PAGEABLE = frozenset(('list_object_versions', 'list_multipart_uploads', 'list_parts'))

# The HTTP method of each presignable operation (a presigned URL is for exactly that request).
_PRESIGN_VERBS = {'GetObject': 'GET', 'HeadObject': 'HEAD', 'PutObject': 'PUT', 'UploadPart': 'PUT', 'DeleteObject': 'DELETE'}

class _NotOffloaded(NexusUnsupportedError):
    """A parameter the channel's fast-path operation does not carry: the call goes through the generic path instead."""


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
                        what='this S3 call without a Nexus channel (NEXUS_CHANNEL_FD is not set: '
                             'the stand-in boto3 only works inside a nexus-mode sandbox)')
                import nexus_channel
                _transport = nexus_channel.connect_from_env()
    return _transport


def channel_errors():
    """The channel's failure classes, for except clauses (empty until the channel is loaded)."""
    channel = sys.modules.get('nexus_channel')
    error = getattr(channel, 'ChannelError', None)
    return (error,) if error is not None else ()


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


def _type_error(name, value, code):
    return (f'Invalid type for parameter {name}, value: {value}, type: {type(value)}, '
            f'valid types: {_TYPE_NAMES[code]}')


def _check(value, code, name, errors, min_one=False):
    if code == 's':
        if not isinstance(value, str):
            errors.append(_type_error(name, value, code))
        elif min_one and not value:
            errors.append(f'Invalid length for parameter {name}, value: 0, valid min length: 1')
    elif code == 'i':
        if not isinstance(value, int):
            errors.append(_type_error(name, value, code))
    elif code == 'b':
        if not isinstance(value, bool):
            errors.append(_type_error(name, value, code))
    elif code == 'm':
        if not isinstance(value, dict):
            errors.append(_type_error(name, value, code))
            return
        for key, item in value.items():
            _check(key, 's', f'{name} (key: {key})', errors)
            _check(item, 's', f'{name}.{key}', errors)
    elif code == 'B':
        if not (isinstance(value, (bytes, bytearray, str)) or hasattr(value, 'read')):
            errors.append(_type_error(name, value, code))
    elif code == 't':
        if not isinstance(value, (str, int, float)) and not hasattr(value, 'utcoffset'):
            errors.append(_type_error(name, value, code))
    elif code == 'D':
        _check_structure(value, name, ('Objects',), {'Objects': 'O', 'Quiet': 'b'}, errors)
    elif code == 'T':
        _check_structure(value, name, ('TagSet',), {'TagSet': 'G'}, errors)
    elif code == 'C':
        _check_structure(value, name, (), {'LocationConstraint': 's'}, errors)
    elif code == 'U':
        _check_structure(value, name, (), {'Parts': 'P'}, errors)


def _check_structure(value, name, required, members, errors):
    if not isinstance(value, dict):
        errors.append(_type_error(name, value, 'D'))
        return
    for member in required:
        if member not in value:
            errors.append(f'Missing required parameter in {name}: "{member}"')
    known = []
    for member in value:
        if member in members:
            known.append(member)
        else:
            errors.append(f'Unknown parameter in {name}: "{member}", must be one of: {", ".join(members)}')
    for member in known:
        code = members[member]
        item = value[member]
        if code in ('O', 'G', 'P'):
            if not isinstance(item, (list, tuple)):
                errors.append(_type_error(f'{name}.{member}', item, 'L'))
                continue
            if code == 'P':
                from botocore._nexus_model import COMPLETED_PART
                required, entry_members = (), COMPLETED_PART
            elif code == 'O':
                required, entry_members = ('Key',), {'Key': 's', 'VersionId': 's'}
            else:
                required, entry_members = ('Key', 'Value'), {'Key': 's', 'Value': 's'}
            for i, entry in enumerate(item):
                _check_structure(entry, f'{name}.{member}[{i}]', required, entry_members, errors)
        else:
            _check(item, code, f'{name}.{member}', errors, min_one=(member == 'Key'))


def _validate_bucket(params):
    if 'Bucket' not in params:
        return
    bucket = params['Bucket']
    if not isinstance(bucket, (str, bytes)):
        raise TypeError(f"expected string or bytes-like object, got '{type(bucket).__name__}'")
    if isinstance(bucket, str) and 1 <= len(bucket) <= 255 and _BUCKET_CHARS.issuperset(bucket):
        return
    if isinstance(bucket, str) and bucket.startswith('arn:'):
        raise NexusUnsupportedError(what=f'the access point ARN bucket "{bucket}"')
    raise ParamValidationError(
        report=f'Invalid bucket name "{bucket}": Bucket name must match the regex "{_BUCKET_REGEX}" '
               f'or be an ARN matching the regex "{_ARN_REGEX}"')


def _validate_ascii_metadata(params):
    metadata = params.get('Metadata')
    if not metadata or not isinstance(metadata, dict):
        return
    for key, value in metadata.items():
        try:
            # Like botocore's handler: a non-str key or value fails here with AttributeError.
            key.encode('ascii')
            value.encode('ascii')
        except UnicodeEncodeError:
            raise ParamValidationError(
                report=f'Non ascii characters found in S3 metadata for key "{key}", value: "{value}".  \n'
                       'S3 metadata can only contain ASCII characters. ') from None


def _prepare(operation, method, params):
    """Validate like botocore (same checks, same order, same messages) and keep what the channel carries."""
    _validate_bucket(params)
    copy_source = params.get('CopySource') if operation == 'CopyObject' else None
    checked = params
    if isinstance(copy_source, dict):
        if 'Bucket' not in copy_source or 'Key' not in copy_source:
            missing = 'Bucket' if 'Bucket' not in copy_source else 'Key'
            raise ParamValidationError(report=f"Missing required parameter: '{missing}'")
        if copy_source.get('VersionId') is not None:
            raise _NotOffloaded(what='CopySource with a VersionId')
        # botocore turns the dict into the header string before validating it.
        checked = dict(params, CopySource='')
    if operation in ('PutObject', 'CopyObject'):
        _validate_ascii_metadata(params)
    from botocore import _nexus_model as _model
    required, members = _model.shape(operation)
    errors = []
    for name in required:
        if name not in checked:
            errors.append(f'Missing required parameter in input: "{name}"')
    known = []
    for name in checked:
        if name in members:
            known.append(name)
        else:
            errors.append(f'Unknown parameter in input: "{name}", must be one of: {", ".join(members)}')
    for name in known:
        _check(checked[name], members[name], name, errors, min_one=name in _model.MIN_LENGTH_ONE)
    if errors:
        raise ParamValidationError(report='\n'.join(errors))
    forwarded = _model.FORWARDED[operation]
    wire = {}
    for name, value in params.items():
        if name == 'Body':
            continue  # travels as the request payload, not as a parameter
        if name in forwarded:
            wire[name] = _timestamp(value) if name in _model.TIMESTAMPS else value
        elif name not in _model.IGNORED:
            raise _NotOffloaded(what=f'the {name} parameter of {method}')
    if copy_source is not None and isinstance(copy_source, dict):
        wire['CopySource'] = {'Bucket': copy_source['Bucket'], 'Key': copy_source['Key']}
    return wire


def _put_checksum(params, wire, body, method):
    """A PutObject's or UploadPart's checksum as botocore 1.29 sends it: a value the function gave travels as it is (the
    store checks it: BadDigest), else the ChecksumAlgorithm's checksum of the body is computed here, as botocore computes
    it in the client. Returns the body to send (an unseekable stream read into bytes, which botocore would have had to
    seek)."""
    from botocore import _nexus_model as _model
    given = [name for name in _model.CHECKSUM_FIELDS if name in wire]
    algorithm = params.get('ChecksumAlgorithm')
    if algorithm is None:
        if len(given) > 1:
            raise _NotOffloaded(what=f'more than one checksum on a {method}')
        return body
    name = algorithm.lower()
    if name not in _model.PUT_CHECKSUMS or (name == 'crc32c' and _Crc32c.crt() is None):
        from botocore.exceptions import FlexibleChecksumError
        raise FlexibleChecksumError(error_msg='Unsupported checksum algorithm: %s' % name)
    field = _model.PUT_CHECKSUMS[name]
    if given and given != [field]:
        # botocore would send the algorithm's checksum as well as the others: the real client shows what that does.
        raise _NotOffloaded(what=f'a checksum other than the ChecksumAlgorithm\'s on a {method}')
    if given:
        return body
    import base64
    if name == 'crc32':
        checksum = _Crc32()
    elif name == 'crc32c':
        checksum = _Crc32c()
    else:
        import hashlib
        checksum = hashlib.new(name)
    if isinstance(body, (bytes, bytearray, memoryview)):
        checksum.update(body)
    else:
        source = getattr(body, 'unwrapped', body)
        try:
            start = source.tell()
        except (AttributeError, OSError, ValueError):
            body = body.read()
            checksum.update(body)
        else:
            for chunk in iter(lambda: source.read(1 << 20), b''):
                checksum.update(chunk)
            source.seek(start)
    wire[field] = base64.b64encode(checksum.digest()).decode('ascii')
    return body


class _Crc32:
    """zlib's CRC-32 with hashlib's update/digest (big-endian, as S3 carries it)."""

    def __init__(self):
        self._crc = 0

    def update(self, chunk):
        import zlib
        self._crc = zlib.crc32(chunk, self._crc)

    def digest(self):
        return self._crc.to_bytes(4, 'big')


class _Crc32c:
    """CRC-32C by awscrt, which botocore needs for it (without awscrt, or with BOTO_DISABLE_CRT=true, it refuses it)."""

    def __init__(self):
        self._crc = 0

    @staticmethod
    def crt():
        if os.environ.get('BOTO_DISABLE_CRT', 'false').lower() == 'true':
            return None
        try:
            from awscrt import checksums
        except ImportError:
            return None
        return checksums

    def update(self, chunk):
        self._crc = self.crt().crc32c(chunk, self._crc)

    def digest(self):
        return self._crc.to_bytes(4, 'big')


def _timestamp(value):
    """A timestamp parameter as botocore reads it (naive datetimes and numbers are UTC), sent as ISO 8601."""
    if isinstance(value, str):
        return value
    import datetime
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value, datetime.timezone.utc).isoformat()
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value.isoformat()


def _headers(meta, request_id):
    """The HTTPHeaders dict botocore exposes, rebuilt from the response fields (lower-case names)."""
    headers = {'x-amz-request-id': request_id}
    if 'LastModified' in meta:
        from botocore.utils import http_date  # datetime is loaded on the first response, not at import
        headers['last-modified'] = http_date(meta['LastModified'])
    if 'ETag' in meta:
        headers['etag'] = meta['ETag']
    if 'AcceptRanges' in meta:
        headers['accept-ranges'] = meta['AcceptRanges']
    if 'ContentRange' in meta:
        headers['content-range'] = meta['ContentRange']
    if 'ContentType' in meta:
        headers['content-type'] = meta['ContentType']
    if 'ContentLength' in meta:
        headers['content-length'] = str(meta['ContentLength'])
    for key, value in (meta.get('Metadata') or {}).items():
        headers['x-amz-meta-' + key] = value
    return headers


def _response_metadata(status, wire_meta, fields):
    given = wire_meta.pop('ResponseMetadata', None) or {}
    # S3 always answers with a request id; when the backend passes none on, make one of S3's shape
    # (16 upper-case hex digits) so code that logs or checks it keeps working.
    request_id = given.get('RequestId') or os.urandom(8).hex().upper()
    return {
        'RequestId': request_id,
        'HostId': given.get('HostId', ''),
        'HTTPStatusCode': status,
        'HTTPHeaders': _headers(fields, request_id),
        'RetryAttempts': 0,
    }


# Lists botocore parses from repeated XML elements: absent, never empty, when S3 sends none.
_FLAT_LISTS = ('Contents', 'CommonPrefixes', 'Deleted', 'Errors', 'Parts')


def _convert(operation, meta):
    """JSON types to botocore types: timestamps become aware UTC datetimes; botocore's shape quirks."""
    for name in _FLAT_LISTS:
        if name in meta and not meta[name]:
            del meta[name]
    from botocore.utils import parse_timestamp  # datetime is loaded on the first response, not at import
    if operation == 'ListObjectsV2' and 'EncodingType' not in meta:
        # botocore always asks for url encoding (and decodes the keys), so S3 echoes the field.
        meta['EncodingType'] = 'url'
    if 'LastModified' in meta:
        meta['LastModified'] = parse_timestamp(
            meta['LastModified'], whole_seconds=operation in ('GetObject', 'HeadObject'))
    for entry in (meta.get('Contents') or []) + (meta.get('Parts') or []):
        if 'LastModified' in entry:
            entry['LastModified'] = parse_timestamp(entry['LastModified'])
    result = meta.get('CopyObjectResult')
    if result and 'LastModified' in result:
        result['LastModified'] = parse_timestamp(result['LastModified'])
    if operation in ('GetObject', 'HeadObject') and 'Metadata' not in meta:
        meta['Metadata'] = {}
    for bucket in meta.get('Buckets') or ():
        if 'CreationDate' in bucket:
            bucket['CreationDate'] = parse_timestamp(bucket['CreationDate'])
    return meta


_RETRYABLE_STATUS = frozenset((500, 502, 503, 504))
_THROTTLING_CODES = frozenset((
    'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException',
    'TooManyRequestsException', 'ProvisionedThroughputExceededException', 'TransactionInProgressException',
    'RequestLimitExceeded', 'BandwidthLimitExceeded', 'LimitExceededException', 'RequestThrottled',
    'SlowDown', 'PriorRequestNotComplete', 'EC2ThrottledException', 'RequestTimeout', 'RequestTimeoutException'))


def _retry_mode(config):
    retries = (config.retries if config is not None else None) or {}
    return retries.get('mode') or os.environ.get('AWS_RETRY_MODE') or 'legacy'


def _retried(config, status, code):
    """Whether botocore would have retried this error (S3's legacy policy also retries BadDigest)."""
    return status in _RETRYABLE_STATUS or code in _THROTTLING_CODES or \
        (code == 'BadDigest' and _retry_mode(config) == 'legacy')


def _retry_attempts(config):
    """The retries botocore would report: legacy mode 4, standard 2, or what Config/AWS_MAX_ATTEMPTS set."""
    retries = (config.retries if config is not None else None) or {}
    if 'total_max_attempts' in retries:
        return retries['total_max_attempts'] - 1
    if 'max_attempts' in retries:
        return retries['max_attempts']
    if os.environ.get('AWS_MAX_ATTEMPTS', '').isdigit():
        return int(os.environ['AWS_MAX_ATTEMPTS']) - 1
    return 4 if _retry_mode(config) == 'legacy' else 2


def _offloaded(method):
    """A fast-path method: a call with a parameter the channel does not carry goes through the generic path instead
    (nothing has been sent when _prepare finds such a parameter)."""
    name = method.__name__

    def call(self, **kwargs):
        try:
            return method(self, **kwargs)
        except _NotOffloaded:
            return getattr(self._generic(), name)(**kwargs)

    call.__name__ = name
    call.__doc__ = method.__doc__
    return call


class ClientMeta:
    """client.meta: what handlers read from it (region, endpoint, config, service name)."""

    def __init__(self, region_name, endpoint_url, config):
        self.region_name = region_name
        self.endpoint_url = endpoint_url
        self.config = config
        self.partition = 'aws'
        self.service_model = _ServiceModel()
        self.method_to_api_mapping = {
            'get_object': 'GetObject', 'put_object': 'PutObject', 'head_object': 'HeadObject',
            'delete_object': 'DeleteObject', 'delete_objects': 'DeleteObjects',
            'list_objects_v2': 'ListObjectsV2', 'list_objects': 'ListObjects', 'copy_object': 'CopyObject',
            'head_bucket': 'HeadBucket', 'list_buckets': 'ListBuckets', 'create_bucket': 'CreateBucket',
            'get_object_tagging': 'GetObjectTagging',
            'put_object_tagging': 'PutObjectTagging', 'delete_object_tagging': 'DeleteObjectTagging',
            'create_multipart_upload': 'CreateMultipartUpload', 'upload_part': 'UploadPart',
            'complete_multipart_upload': 'CompleteMultipartUpload', 'abort_multipart_upload': 'AbortMultipartUpload',
            'list_parts': 'ListParts'}


class _ServiceModel:
    service_name = 's3'
    signing_name = 's3'
    api_version = '2006-03-01'
    protocol = 'rest-xml'


class BaseClient:
    """Base class of generated clients in botocore; isinstance checks against it keep working."""


class S3(BaseClient):
    """The S3 client: the operations the Nexus channel offloads, plus boto3's injected helpers."""

    def __init__(self, region_name=None, endpoint_url=None, config=None, explicit_credentials=False):
        region = region_name or (config.region_name if config is not None else None) or \
            os.environ.get('AWS_DEFAULT_REGION') or os.environ.get('AWS_REGION') or 'us-east-1'
        self.meta = ClientMeta(region, endpoint_url or f'https://s3.{region}.amazonaws.com', config)
        self.exceptions = s3_exceptions()
        if endpoint_url or explicit_credentials:
            _say_routed(endpoint_url, explicit_credentials)

    def __getattr__(self, name):
        from botocore import _nexus_model as _model
        if name in _model.ALL_METHODS and name != 'generate_presigned_post':
            # Not served by the fast path: the real botocore's method, its requests sent over the channel (generic path).
            return getattr(self._generic(), name)
        raise AttributeError(f"'S3' object has no attribute '{name}'")

    def _generic(self):
        """The real botocore S3 client behind this one (loaded on first need), for calls the fast path does not serve."""
        real = self.__dict__.get('_real')
        if real is None:
            from botocore import _nexus_generic
            real = self._real = _nexus_generic.real_s3_client(self.meta.region_name, self.meta.config)
        return real

    def _call(self, operation, method, params):
        """One boto3 call as one channel request. Returns (status, meta, raw body) or raises the botocore exception."""
        body = None
        wire = _prepare(operation, method, params)
        if operation in ('PutObject', 'CreateMultipartUpload'):
            # S3 stores an object sent without Content-Type as binary/octet-stream; say so explicitly,
            # because the backend's SDK would otherwise pick its own default.
            wire.setdefault('ContentType', 'binary/octet-stream')
        if operation in ('PutObject', 'UploadPart'):
            body = params.get('Body', b'')
            if isinstance(body, str):
                body = body.encode('utf-8')
            body = _put_checksum(params, wire, body, method)
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
        """Send one prepared request; errors become the botocore exception of ``operation``."""
        try:
            response = _get_transport().call(wire_operation, wire, body)
        except channel_errors() as e:
            # The host end is gone or broke the protocol: what botocore raises when its connection drops.
            from botocore.exceptions import ConnectionClosedError
            raise ConnectionClosedError(endpoint_url=f'{self.meta.endpoint_url} (Nexus channel: {e})') from e
        status = response.status
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
            error = {'Code': str(status), 'Message': _REASONS.get(status, '')}
        response = {'Error': dict(error)}
        response['ResponseMetadata'] = _response_metadata(status, meta, {})
        if _retried(self.meta.config, status, error['Code']):
            # botocore would have retried this itself and says so; the backend's SDK did the retrying here.
            response['ResponseMetadata']['MaxAttemptsReached'] = True
            response['ResponseMetadata']['RetryAttempts'] = _retry_attempts(self.meta.config)
        return self.exceptions.from_code(error['Code'])(response, operation)

    def _finish(self, operation, status, meta, body):
        """Close any unexpected body and build the botocore-shaped response dict."""
        if body is not None:
            body.close()
        meta = _convert(operation, meta)
        meta['ResponseMetadata'] = _response_metadata(status, meta, meta)
        return meta

    @_offloaded
    def get_object(self, **kwargs):
        status, meta, raw = self._call('GetObject', 'get_object', kwargs)
        meta = _convert('GetObject', meta)
        meta['ResponseMetadata'] = _response_metadata(status, meta, meta)
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
        return self._finish('HeadBucket', *self._call('HeadBucket', 'head_bucket', kwargs))

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
        """Signed by the backend (the sandbox holds no credentials) for the node's storage endpoint, within the grants."""
        from botocore import _nexus_model as _model
        if ClientMethod not in _model.PRESIGNABLE:
            if ClientMethod in _model.ALL_METHODS:
                raise NexusUnsupportedError(what=f'a presigned URL for {ClientMethod}')
            from botocore.exceptions import UnknownClientMethodError
            raise UnknownClientMethodError(method_name=ClientMethod)
        operation, signable = _model.PRESIGNABLE[ClientMethod]
        wire = _prepare(operation, ClientMethod, dict(Params or {}))
        for name in wire:
            if name not in signable:
                raise NexusUnsupportedError(what=f'the {name} parameter of a presigned {ClientMethod}')
        if HttpMethod is not None and HttpMethod != _PRESIGN_VERBS[operation]:
            raise NexusUnsupportedError(what=f'HttpMethod={HttpMethod!r} for a presigned {ClientMethod}')
        wire['Operation'] = operation
        wire['ExpiresIn'] = ExpiresIn
        status, meta, body = self._call_wire('GeneratePresignedUrl', 'GeneratePresignedUrl', wire, None)
        if body is not None:
            body.close()
        return meta['Url']

    def generate_presigned_post(self, Bucket, Key, Fields=None, Conditions=None, ExpiresIn=3600):
        """A browser-form upload to the node's storage endpoint; the backend writes the policy's bucket and key
        conditions and signs it with the node's key, within the grants (Conditions given here can only narrow it)."""
        _validate_bucket({'Bucket': Bucket})
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
        from botocore.paginate import PAGINATORS, Paginator
        if operation_name not in PAGINATORS:
            if operation_name in _PAGEABLE:
                return self._generic().get_paginator(operation_name)
            from botocore.exceptions import OperationNotPageableError
            raise OperationNotPageableError(operation_name=operation_name)
        input_token, output_token = PAGINATORS[operation_name]
        return Paginator(getattr(self, operation_name), input_token, output_token)

    @property
    def waiter_names(self):
        return ['bucket_exists', 'bucket_not_exists', 'object_exists', 'object_not_exists']

    def get_waiter(self, waiter_name):
        names = {'object_exists': 'ObjectExists', 'object_not_exists': 'ObjectNotExists'}
        if waiter_name not in names:
            if waiter_name in self.waiter_names:
                return self._generic().get_waiter(waiter_name)
            raise ValueError('Waiter does not exist: %s' % waiter_name)
        from botocore.waiter import Waiter
        return Waiter(names[waiter_name], self.head_object)

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
        return transfer.copy(self, CopySource, Bucket, Key, ExtraArgs, Callback)

    def close(self):
        """Nothing to release per client: the channel belongs to the process."""


__all__ = ['BaseClient', 'ClientError', 'Config', 'S3']
