# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A JSON-protocol call's parameters checked, serialized and its answer parsed as botocore 1.29 does it, driven by a
model slice (model_slice.py's shapes: (type, ...) tuples): ParamValidator's checks and messages, JSONSerializer's
body, BaseJSONParser's shapes (blobs as base64, timestamps as epoch seconds both ways, members by their wire names)."""

import base64

from botocore._nexus_params import _known_members
from botocore.utils import aware_datetime

_VALID_TYPES = {
    'structure': (dict,), 'map': (dict,), 'list': (list, tuple), 'string': (str,), 'integer': (int,),
    'long': (int,), 'boolean': (bool,),
}


def _name(name):
    return 'input' if not name else name[1:] if name.startswith('.') else name


def _invalid_type(errors, name, value, valid):
    errors.append(f'Invalid type for parameter {_name(name)}, value: {value}, type: {type(value)}, '
                  f'valid types: {", ".join(valid)}')


def _range(errors, name, value, minimum, what):
    """botocore's range_check: a length (strings, lists) or a value (numbers) under the shape's min."""
    if minimum is not None and value < minimum:
        errors.append(f'Invalid {what} for parameter {_name(name)}, value: {value}, valid min {what}: {minimum}')


def validate(shapes, value, shape_name, errors, name=''):
    """Appends botocore's report lines for ``value`` against ``shape_name`` to ``errors`` (all of them, in its order)."""
    shape = shapes[shape_name]
    kind = shape[0]
    if kind == 'blob':
        if not (isinstance(value, (bytes, bytearray, str)) or hasattr(value, 'read')):
            _invalid_type(errors, name, value, (str(bytes), str(bytearray), 'file-like object'))
        return
    if kind in ('double', 'float'):
        from decimal import Decimal
        valid = (float, Decimal, int)
    elif kind == 'timestamp':
        # botocore's _type_check_datetime: valid when its parse_to_aware_datetime reads it.
        try:
            aware_datetime(value)
        except (TypeError, ValueError, AttributeError):
            from datetime import datetime
            _invalid_type(errors, name, value, (str(datetime), 'timestamp-string'))
        return
    else:
        valid = _VALID_TYPES[kind]
    if not isinstance(value, valid):
        _invalid_type(errors, name, value, [str(t) for t in valid])
        return
    if kind == 'structure':
        by_name = {m[0]: m[1] for m in shape[2]}
        for member in _known_members(value, _name(name), shape[1], by_name, errors):
            validate(shapes, value[member], by_name[member], errors, f'{name}.{member}')
    elif kind == 'list':
        _range(errors, name, len(value), shape[2], 'length')
        for i, item in enumerate(value):
            validate(shapes, item, shape[1], errors, f'{name}[{i}]')
    elif kind == 'map':
        for key, item in value.items():
            validate(shapes, key, shape[1], errors, f'{name} (key: {key})')
            validate(shapes, item, shape[2], errors, f'{name}.{key}')
    elif kind == 'string':
        _range(errors, name, len(value), shape[1], 'length')
    elif kind in ('integer', 'long', 'double', 'float'):
        _range(errors, name, value, shape[1], 'value')


def serialize(shapes, value, shape_name):
    """botocore's JSONSerializer: members by wire name, blobs as base64 text, everything else as given."""
    shape = shapes[shape_name]
    kind = shape[0]
    if kind == 'structure':
        members = {m[0]: m for m in shape[2]}
        out = {}
        for key, item in value.items():
            member = members[key]
            out[member[2] if len(member) > 2 else key] = serialize(shapes, item, member[1])
        return out
    if kind == 'list':
        return [serialize(shapes, item, shape[1]) for item in value]
    if kind == 'map':
        return {key: serialize(shapes, item, shape[2]) for key, item in value.items()}
    if kind == 'blob':
        if isinstance(value, str):
            value = value.encode('utf-8')
        return base64.b64encode(value).strip().decode('utf-8')
    if kind == 'timestamp':
        return timestamp_text(value, shape, 'unixtimestamp')
    return value


def timestamp_text(value, shape, protocol_format):
    """botocore's _convert_timestamp_to_str: the shape's timestampFormat, else the protocol's (JSON: unixtimestamp,
    query and query strings: iso8601, headers: rfc822)."""
    value = aware_datetime(value)
    timestamp_format = (shape[1] if len(shape) > 1 else protocol_format).lower()
    if timestamp_format == 'unixtimestamp':
        import calendar
        return int(calendar.timegm(value.timetuple()))
    if timestamp_format == 'iso8601':
        return value.strftime('%Y-%m-%dT%H:%M:%S.%fZ' if value.microsecond > 0 else '%Y-%m-%dT%H:%M:%SZ')
    if timestamp_format == 'rfc822':
        from botocore.utils import http_date
        return http_date(value)
    raise ValueError(f'timestamp format {timestamp_format} is not one the stand-in writes')


def parse(shapes, value, shape_name):
    """botocore's BaseJSONParser: the shape's members found under their wire names, blobs decoded from base64."""
    shape = shapes[shape_name]
    kind = shape[0]
    if kind == 'structure':
        if value is None:
            return None
        out = {}
        for member in shape[2]:
            raw = value.get(member[2] if len(member) > 2 else member[0])
            if raw is not None:
                out[member[0]] = parse(shapes, raw, member[1])
        return out
    if kind == 'list':
        return [parse(shapes, item, shape[1]) for item in value]
    if kind == 'map':
        return {parse(shapes, key, shape[1]): parse(shapes, item, shape[2]) for key, item in value.items()}
    if kind == 'blob':
        return base64.b64decode(value)
    if kind == 'timestamp':
        from botocore.utils import parse_epoch_timestamp
        return parse_epoch_timestamp(value)
    return value


def scalar_from_text(kind, text):
    """A scalar member read from its text, as botocore's parsers read an XML element or a REST header."""
    if kind in ('integer', 'long'):
        return int(text)
    if kind in ('double', 'float'):
        return float(text)
    if kind == 'boolean':
        return text == 'true'
    if kind == 'blob':
        return base64.b64decode(text)
    if kind == 'timestamp':
        from botocore.utils import parse_timestamp
        return parse_timestamp(text)
    return text
