# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The S3 client's parameters, checked as botocore checks them (same checks, same order, same messages), and the
part of them the channel carries: the request's JSON, its timestamps and the checksum botocore computes on a put."""

import os

from botocore.exceptions import NexusUnsupportedError, ParamValidationError

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

class NotOffloaded(NexusUnsupportedError):
    """A parameter the channel's fast-path operation does not carry: the call goes through the generic path instead."""


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


def _known_members(value, label, required, members, errors):
    """The members of value the shape knows, in order; botocore's messages for missing and unknown ones go to errors."""
    for member in required:
        if member not in value:
            errors.append(f'Missing required parameter in {label}: "{member}"')
    known = []
    for member in value:
        if member in members:
            known.append(member)
        else:
            errors.append(f'Unknown parameter in {label}: "{member}", must be one of: {", ".join(members)}')
    return known


def _check_structure(value, name, required, members, errors):
    if not isinstance(value, dict):
        errors.append(_type_error(name, value, 'D'))
        return
    for member in _known_members(value, name, required, members, errors):
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


def validate_bucket(params):
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


# The operations whose SSE-C key botocore's sse_md5 / copy_source_sse_md5 handlers encode before validation.
_SSE_CUSTOMER = {'HeadObject': ('SSECustomer',), 'GetObject': ('SSECustomer',), 'PutObject': ('SSECustomer',),
                 'CopyObject': ('SSECustomer', 'CopySourceSSECustomer'), 'CreateMultipartUpload': ('SSECustomer',),
                 'UploadPart': ('SSECustomer',)}


def _sse_md5(params, prefix):
    """As botocore before it validates: a customer key given as bytes or str becomes base64, with its MD5 beside it
    (unless the caller gave the MD5), so a bytes key is valid. The call itself goes by the generic path, where the
    real botocore does the same to the caller's own parameters."""
    key = params.get(prefix + 'Key')
    if key is None or prefix + 'KeyMD5' in params or not isinstance(key, (bytes, bytearray, str)):
        return params
    import base64
    import hashlib
    raw = key.encode('utf-8') if isinstance(key, str) else bytes(key)
    return dict(params, **{prefix + 'Key': base64.b64encode(raw).decode('utf-8'),
                           prefix + 'KeyMD5': base64.b64encode(hashlib.md5(raw).digest()).decode('utf-8')})


def prepare(operation, method, params):
    """Validate like botocore (same checks, same order, same messages) and keep what the channel carries."""
    validate_bucket(params)
    copy_source = params.get('CopySource') if operation == 'CopyObject' else None
    checked = params
    if isinstance(copy_source, dict):
        if 'Bucket' not in copy_source or 'Key' not in copy_source:
            missing = 'Bucket' if 'Bucket' not in copy_source else 'Key'
            raise ParamValidationError(report=f"Missing required parameter: '{missing}'")
        if copy_source.get('VersionId') is not None:
            raise NotOffloaded(what='CopySource with a VersionId')
        # botocore turns the dict into the header string before validating it.
        checked = dict(params, CopySource='')
    elif isinstance(copy_source, str) and '?versionId=' in copy_source:
        # botocore keeps the version in the header it writes; the store decides what it names.
        raise NotOffloaded(what='CopySource with a versionId')
    for prefix in _SSE_CUSTOMER.get(operation, ()):
        checked = _sse_md5(checked, prefix)
    if operation in ('PutObject', 'CopyObject'):
        _validate_ascii_metadata(params)
    from botocore import _nexus_model as _model
    required, members = _model.shape(operation)
    errors = []
    for name in _known_members(checked, 'input', required, members, errors):
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
            raise NotOffloaded(what=f'the {name} parameter of {method}')
    if copy_source is not None and isinstance(copy_source, dict):
        wire['CopySource'] = {'Bucket': copy_source['Bucket'], 'Key': copy_source['Key']}
    return wire


def put_checksum(params, wire, body, method):
    """A PutObject's or UploadPart's checksum as botocore 1.29 sends it: a value the function gave travels as it is (the
    store checks it: BadDigest), else the ChecksumAlgorithm's checksum of the body is computed here, as botocore computes
    it in the client. Returns the body to send (an unseekable stream read into bytes, which botocore would have had to
    seek)."""
    from botocore import _nexus_model as _model
    given = [name for name in _model.CHECKSUM_FIELDS if name in wire]
    algorithm = params.get('ChecksumAlgorithm')
    if algorithm is None:
        if len(given) > 1:
            raise NotOffloaded(what=f'more than one checksum on a {method}')
        return body
    name = algorithm.lower()
    if name not in _model.PUT_CHECKSUMS or (name == 'crc32c' and _Crc32c.crt() is None):
        from botocore.exceptions import FlexibleChecksumError
        raise FlexibleChecksumError(error_msg='Unsupported checksum algorithm: %s' % name)
    field = _model.PUT_CHECKSUMS[name]
    if given and given != [field]:
        # botocore would send the algorithm's checksum as well as the others: the real client shows what that does.
        raise NotOffloaded(what=f'a checksum other than the ChecksumAlgorithm\'s on a {method}')
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
