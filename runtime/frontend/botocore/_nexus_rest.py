# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The REST-JSON protocol of the stand-in's model-driven clients, as botocore 1.29's RestJSONSerializer and
RestJSONParser do it: members placed in the URI (labels percent-encoded, greedy ones keeping '/'), the query string,
headers (booleans as Python spells them, lists joined with ',', JSON values in base64, timestamps as RFC 822) or the
body (the payload member alone: a blob or text as it is, a structure as JSON; else the other members as JSON, '{}' when
the input has body members but none is given); the request's path under the client's endpoint path (an API Gateway
stage). Answers: the status code, headers and payload members read where the model puts them (a blob payload as a
StreamingBody, a text one decoded), the rest from the JSON body; errors' codes from x-amzn-ErrorType, else the body's
code.

The backend cannot read a REST call's action from it, so it is covered only by a grant of every action on every
resource of its service (ServiceTarget.AnyAction), as the generic path's REST calls are.
"""

import base64
import calendar
import json
import re

from botocore._nexus_json import ModelClient
from botocore._nexus_service import ResolvingMeta, body_json, percent_encode, rest_json_error
from botocore._nexus_shapes import parse, scalar_from_text, serialize, timestamp_text
from botocore.utils import aware_datetime

_LABEL = re.compile(r'{(.*?)}')
_GREEDY_SAFE = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~/')


def _text(value):
    return value if isinstance(value, str) else str(value)


def _render(uri, labels):
    """botocore's _render_uri_template."""
    def label(match):
        name = match.group(1)
        if name.endswith('+'):
            return percent_encode(_text(labels[name[:-1]]), _GREEDY_SAFE)
        return percent_encode(_text(labels[name]))
    return _LABEL.sub(label, uri)


def _under(endpoint_path, path):
    """botocore's _urljoin: the request's path under the endpoint's."""
    if not path or path == '/':
        return endpoint_path or '/'
    if endpoint_path.endswith('/') and path.startswith('/'):
        return endpoint_path[:-1] + path
    return endpoint_path + path


class RestJsonClient(ModelClient):
    """A REST-JSON client: method and URI from the model, members where the model places them."""

    def _members(self, shape_name):
        return {m[0]: m for m in self.MODEL.SHAPES[shape_name][2]}

    def _payload(self, shape_name):
        shape = self.MODEL.SHAPES[shape_name]
        return shape[3] if len(shape) > 3 else None

    def _header_value(self, member, value):
        """botocore's _convert_header_value (then str())."""
        shape = self.MODEL.SHAPES[member[1]]
        if shape[0] == 'timestamp':
            # Whole seconds first, whatever the format.
            whole = calendar.timegm(aware_datetime(value).utctimetuple())
            return timestamp_text(whole, shape, 'rfc822')
        if shape[0] == 'list':
            item = (None, shape[1])
            return ','.join(self._header_value(item, v) for v in value if v is not None)
        if len(member) > 4:
            return base64.b64encode(json.dumps(value, separators=(',', ':')).encode('utf-8')).decode('utf-8')
        return _text(value)

    def _encode(self, operation, input_shape, params):
        shapes = self.MODEL.SHAPES
        method, uri = self.MODEL.HTTP[operation]
        members = self._members(input_shape)
        labels, query, headers, body_params = {}, {}, {}, {}
        for name, value in params.items():
            if value is None:
                continue
            member = members[name]
            location = member[3] if len(member) > 3 else None
            wire = member[2] if len(member) > 2 else name
            kind = shapes[member[1]][0]
            if location == 'uri':
                labels[wire] = value
            elif location == 'querystring':
                if isinstance(value, dict):
                    query.update(value)
                elif isinstance(value, bool):
                    query[wire] = str(value).lower()
                elif kind == 'timestamp':
                    query[wire] = timestamp_text(value, shapes[member[1]], 'iso8601')
                else:
                    query[wire] = value
            elif location == 'header':
                if kind == 'list' and not value:
                    continue
                headers[wire] = self._header_value(member, value)
            else:
                body_params[name] = value
        path, _, literal_query = _render(uri, labels).partition('?')
        path = _under(self._endpoint_path(), path)
        pairs = [literal_query] if literal_query else []
        for key, value in query.items():
            for item in value if isinstance(value, list) else [value]:
                pairs.append(f'{percent_encode(_text(key))}={percent_encode(_text(item))}')
        if pairs:
            path += '?' + '&'.join(pairs)
        payload = self._payload(input_shape)
        if payload is not None and shapes[members[payload][1]][0] in ('blob', 'string'):
            body = params.get(payload, b'')
            if isinstance(body, str):
                body = body.encode('utf-8')
            elif hasattr(body, 'read'):
                body = body.read()
            return method, path, headers, bytes(body)
        return method, path, headers, self._document(input_shape, members, payload, params, body_params, headers)

    def _document(self, input_shape, members, payload, params, body_params, headers):
        """The body of a call whose payload is not a blob or text: the payload member, or the body members, as JSON."""
        shapes = self.MODEL.SHAPES
        if payload is not None:
            value = params.get(payload)
            body = b'{}' if value is None else json.dumps(serialize(shapes, value, members[payload][1])).encode()
        elif body_params:
            body = json.dumps(serialize(shapes, body_params, input_shape)).encode('utf-8')
        elif any(len(m) < 4 for m in members.values()):
            body = b'{}'
        else:
            body = b''
        if body and not any(key.lower() == 'content-type' for key in headers):
            headers['Content-Type'] = 'application/json'
        return body

    def _endpoint_path(self):
        # The path of an endpoint_url the client was given (botocore's requests go under it); a resolved endpoint has
        # none, and is not read for it.
        if isinstance(self.meta, ResolvingMeta):
            return ''
        from urllib.parse import urlsplit
        return urlsplit(self.meta.endpoint_url).path

    def _reads_body(self, output_shape):
        # A blob payload is botocore's streaming output: handed over unread.
        payload = None if output_shape is None else self._payload(output_shape)
        return payload is None or self.MODEL.SHAPES[self._members(output_shape)[payload][1]][0] != 'blob'

    def _decode(self, status, headers, content, output_shape, wrapper):
        parsed = {}
        if output_shape is None:
            return parsed
        parsed.update(self._located(status, headers, output_shape))
        members = self._members(output_shape)
        payload = self._payload(output_shape)
        if payload is None:
            parsed.update(self._body_members(content, output_shape))
            return parsed
        kind = self.MODEL.SHAPES[members[payload][1]][0]
        if kind == 'blob':
            from botocore.response import StreamingBody
            parsed[payload] = StreamingBody(content, headers.get('content-length'))
        elif kind == 'string':
            parsed[payload] = content.decode('utf-8')
        else:
            parsed[payload] = self._body_members(content, members[payload][1])
        return parsed

    def _body_members(self, content, shape_name):
        """A structure read from the answer's body (JSON here)."""
        return parse(self.MODEL.SHAPES, body_json(content), shape_name)

    def _located(self, status, headers, shape_name):
        """botocore's _parse_non_payload_attrs: the members in the status code and headers."""
        shapes = self.MODEL.SHAPES
        out = {}
        for member in shapes[shape_name][2]:
            location = member[3] if len(member) > 3 else None
            if location == 'statusCode':
                out[member[0]] = status
            elif location == 'headers':
                prefix = member[2].lower()
                out[member[0]] = {name[len(prefix):]: value for name, value in headers.items()
                                  if name.lower().startswith(prefix)}
            elif location == 'header' and member[2].lower() in headers:
                out[member[0]] = self._header_member(member, headers[member[2].lower()])
        return out

    def _header_member(self, member, text):
        kind = self.MODEL.SHAPES[member[1]][0]
        if len(member) > 4:
            return json.loads(base64.b64decode(text).decode('utf-8'))
        if kind == 'list':
            return [e.strip() for e in text.split(',')]
        return scalar_from_text(kind, text)

    def _error_response(self, status, headers, raw):
        return rest_json_error(status, headers, raw)

    def _modeled_fields(self, code, headers, raw):
        shape = self._error_shape(code)
        if shape is None:
            return {}
        fields = self._located(None, headers, shape)
        fields.update(parse(self.MODEL.SHAPES, body_json(raw), shape))
        return fields
