# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The query protocol of the stand-in's model-driven clients (SQS and SNS in botocore 1.29): the parameters as a form
(Action, Version, members by their wire names, lists and maps numbered as botocore's QuerySerializer numbers them),
the answer's XML read as botocore's QueryParser reads it (the result wrapper, lists and maps, flattened or not, scalars
by their shapes, the request id from ResponseMetadata; errors from ErrorResponse)."""

import base64
import re
from urllib.parse import urlencode

from botocore._nexus_json import ModelClient
from botocore._nexus_shapes import scalar_from_text, timestamp_text

_NAMESPACE = re.compile('{.*}')


def _serialize(shapes, value, shape_name, prefix, out):
    shape = shapes[shape_name]
    kind = shape[0]
    if kind == 'structure':
        members = {m[0]: m for m in shape[2]}
        for key, item in value.items():
            member = members[key]
            name = member[2] if len(member) > 2 else key
            _serialize(shapes, item, member[1], f'{prefix}.{name}' if prefix else name, out)
    elif kind == 'list':
        if not value:
            out.append((prefix, ''))
            return
        _, member, _, flattened, member_name = shape
        if flattened:
            list_prefix = '.'.join(prefix.split('.')[:-1] + [member_name]) if member_name else prefix
        else:
            list_prefix = f'{prefix}.{member_name or "member"}'
        for i, item in enumerate(value, 1):
            _serialize(shapes, item, member, f'{list_prefix}.{i}', out)
    elif kind == 'map':
        _, key_shape, value_shape, flattened, key_name, value_name = shape
        base = prefix if flattened else f'{prefix}.entry'
        for i, key in enumerate(value, 1):
            _serialize(shapes, key, key_shape, f'{base}.{i}.{key_name}', out)
            _serialize(shapes, value[key], value_shape, f'{base}.{i}.{value_name}', out)
    elif kind == 'blob':
        data = value.encode('utf-8') if isinstance(value, str) else value
        out.append((prefix, base64.b64encode(data).strip().decode('utf-8')))
    elif kind == 'boolean':
        out.append((prefix, 'true' if value else 'false'))
    elif kind == 'timestamp':
        out.append((prefix, timestamp_text(value, shape, 'iso8601')))
    else:
        out.append((prefix, value))


def _serialize_ec2(shapes, names, value, shape_name, prefix, out):
    """botocore's EC2Serializer: members by their form names (``names``), list elements numbered straight after the
    list's name (an empty list sends nothing), the rest as the query protocol."""
    shape = shapes[shape_name]
    kind = shape[0]
    if kind == 'structure':
        members = {m[0]: m for m in shape[2]}
        renamed = names.get(shape_name, {})
        for key, item in value.items():
            name = renamed.get(key, key)
            _serialize_ec2(shapes, names, item, members[key][1], f'{prefix}.{name}' if prefix else name, out)
    elif kind == 'list':
        for i, item in enumerate(value, 1):
            _serialize_ec2(shapes, names, item, shape[1], f'{prefix}.{i}', out)
    else:
        _serialize(shapes, value, shape_name, prefix, out)


def _tag(node):
    return _NAMESPACE.sub('', node.tag)


def _children(node):
    """botocore's _build_name_to_xml_node: child elements by tag, repeated tags as lists."""
    if isinstance(node, list):
        node = node[0]
    out = {}
    for child in node:
        key = _tag(child)
        if key in out:
            if isinstance(out[key], list):
                out[key].append(child)
            else:
                out[key] = [out[key], child]
        else:
            out[key] = child
    return out


def _text(node):
    text = node.text if hasattr(node, 'text') else node
    return '' if text is None else text


def _parse(shapes, node, shape_name):
    shape = shapes[shape_name]
    kind = shape[0]
    if kind == 'structure':
        children = _children(node)
        out = {}
        for member in shape[2]:
            member_shape = shapes[member[1]]
            xml_name = member[2] if len(member) > 2 else member[0]
            if member_shape[0] == 'list' and member_shape[3] and member_shape[4]:
                xml_name = member_shape[4]
            child = children.get(xml_name)
            if child is not None:
                out[member[0]] = _parse(shapes, child, member[1])
        return out
    if kind == 'list':
        if shape[3] and not isinstance(node, list):
            node = [node]
        return [_parse(shapes, item, shape[1]) for item in node]
    if kind == 'map':
        _, key_shape, value_shape, flattened, key_name, value_name = shape
        if flattened and not isinstance(node, list):
            node = [node]
        out = {}
        for entry in node:
            key = value = None
            for part in entry:
                if _tag(part) == key_name:
                    key = _parse(shapes, part, key_shape)
                elif _tag(part) == value_name:
                    value = _parse(shapes, part, value_shape)
            out[key] = value
        return out
    return scalar_from_text(kind, _text(node))


def error_root(root):
    """botocore's _get_error_root: an error shape's members are read from ErrorResponse's Error element."""
    if _tag(root) == 'ErrorResponse':
        return next((child for child in root if _tag(child) == 'Error'), root)
    return root


def _root(content):
    from xml.etree import ElementTree
    return ElementTree.fromstring(content)


def _flat(node):
    """botocore's _build_name_to_xml_node and _replace_nodes: an element's children as a dict of their texts, or of
    theirs when they have children (of a repeated tag, the first)."""
    out = {}
    for key, value in _children(node).items():
        if isinstance(value, list) or len(value):
            out[key] = _flat(value)
        else:
            out[key] = value.text
    return out


class QueryClient(ModelClient):
    """A query-protocol client: the call as a form with its Action and Version, the answer and its errors as XML."""

    def _encode(self, operation, input_shape, params):
        pairs = [('Action', operation), ('Version', self.MODEL.API_VERSION)]
        self._form(params, input_shape, pairs)
        pairs = self._sent_pairs(operation, pairs)
        headers = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
        return 'POST', '/', headers, urlencode([(k, v.encode('utf-8') if isinstance(v, str) else str(v)) for k, v in pairs],
                                  doseq=True).encode('utf-8')

    def _form(self, params, input_shape, pairs):
        """Appends the parameters' form pairs."""
        _serialize(self.MODEL.SHAPES, params, input_shape, '', pairs)

    def _sent_pairs(self, operation, pairs):
        """The form's pairs as sent (a subclass may change them, as botocore's before-call handlers do)."""
        return pairs

    def _decode(self, status, headers, content, output_shape, wrapper):
        root = _root(content)
        parsed = {}
        if output_shape is not None:
            start = _children(root)[wrapper] if wrapper else root
            parsed = _parse(self.MODEL.SHAPES, start, output_shape)
        metadata = _children(root).get('ResponseMetadata')
        if metadata is not None:
            parsed['ResponseMetadata'] = {key: (value.text if not isinstance(value, list) else value[-1].text)
                                          for key, value in _children(metadata).items()}
        return parsed

    def _refusal(self, code, message, request_id):
        # The signing proxy's words for a query-protocol refusal (ServiceProxyErrors). Escaped here: xml.sax.saxutils
        # would load urllib.request (and http.client, ssl) into the sandbox.
        def escape(text):
            return text.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')
        return 'text/xml', (f'<ErrorResponse><Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>'
                            f'</Error><RequestId>{request_id}</RequestId></ErrorResponse>').encode()

    def _success_metadata(self, headers):
        # The request id is the XML's (ResponseMetadata), not a header's.
        return {}

    def _error_response(self, status, headers, raw):
        from xml.etree.ElementTree import ParseError
        try:
            parsed = _flat(_root(raw))
        except ParseError:
            return {'Error': {'Code': str(status), 'Message': ''}, 'ResponseMetadata': {}}
        if 'Errors' in parsed:
            parsed.update(parsed.pop('Errors'))
        parsed['ResponseMetadata'] = {'RequestId': parsed.pop('RequestId')} if 'RequestId' in parsed else {}
        parsed.setdefault('Error', {})
        return parsed

    def _modeled_fields(self, code, headers, raw):
        shape = self._error_shape(code)
        if shape is None:
            return {}
        return _parse(self.MODEL.SHAPES, error_root(_root(raw)), shape)


class Ec2Client(QueryClient):
    """The EC2 protocol (botocore's EC2Serializer and EC2QueryParser): a form as the query protocol's with EC2's member
    names and list numbering; the answer's members straight under its root, its request id in requestId; errors in
    Response/Errors/Error with RequestID."""

    def _form(self, params, input_shape, pairs):
        _serialize_ec2(self.MODEL.SHAPES, self.MODEL.EC2_NAMES, params, input_shape, '', pairs)

    def _decode(self, status, headers, content, output_shape, wrapper):
        root = _root(content)
        parsed = _parse(self.MODEL.SHAPES, root, output_shape) if output_shape is not None else {}
        request_id = _children(root).get('requestId')
        if request_id is not None:
            parsed['ResponseMetadata'] = {'RequestId': _text(request_id)}
        return parsed

    def _error_response(self, status, headers, raw):
        parsed = super()._error_response(status, headers, raw)
        if 'RequestID' in parsed:
            parsed['ResponseMetadata'] = {'RequestId': parsed.pop('RequestID')}
        return parsed
