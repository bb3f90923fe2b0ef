# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The REST-XML protocol of the stand-in's model-driven clients (CloudFront, Route 53, ... in botocore 1.29), as its
RestXMLSerializer and RestXMLParser do it: URI, query string and headers as REST-JSON's (_nexus_rest.py); the body the
payload member (or the body members) as an XML document, its elements named by the members' wire names, a structure's
namespace (xmlNamespace) as its xmlns, lists wrapped (their members' names) or flattened, maps as entries; answers
read from the status code, headers and an XML body; errors from ErrorResponse/Error (or Error alone), or the status.
"""

from xml.etree import ElementTree

from botocore._nexus_query import _flat, _parse, _tag, error_root
from botocore._nexus_rest import RestJsonClient
from botocore._nexus_shapes import timestamp_text


def _element(shapes, traits, shape_name, value, parent, name, namespace=None):
    """botocore's RestXMLSerializer._serialize: ``value`` as the element ``name`` under ``parent``."""
    shape = shapes[shape_name]
    kind = shape[0]
    node = None
    if kind != 'list' or not shape[3]:
        node = ElementTree.SubElement(parent, name)
    if kind == 'structure':
        if namespace:
            attribute = 'xmlns' + (':' + namespace['prefix'] if namespace.get('prefix') else '')
            node.attrib[attribute] = namespace['uri']
        members = {m[0]: m for m in shape[2]}
        member_traits = traits.get(shape_name, {})
        for key, item in value.items():
            member = members[key]
            if item is None:
                return   # botocore stops at a member given as None
            wire = member[2] if len(member) > 2 else key
            member_namespace, attribute = member_traits.get(key, (None, False))
            if attribute:
                node.attrib[wire] = item
                continue
            _element(shapes, traits, member[1], item, node, wire, member_namespace)
    elif kind == 'list':
        _, member_shape, _, flattened, member_name = shape
        element, list_node = (name, parent) if flattened else (member_name or 'member', node)
        for item in value:
            _element(shapes, traits, member_shape, item, list_node, element)
    elif kind == 'map':
        _, key_shape, value_shape, _, key_name, value_name = shape
        for key, item in value.items():
            entry = ElementTree.SubElement(node, 'entry')
            _element(shapes, traits, key_shape, key, entry, key_name)
            _element(shapes, traits, value_shape, item, entry, value_name)
    elif kind == 'boolean':
        node.text = 'true' if value else 'false'
    elif kind == 'blob':
        import base64
        node.text = base64.b64encode(value.encode('utf-8') if isinstance(value, str) else value).strip().decode('utf-8')
    elif kind == 'timestamp':
        node.text = timestamp_text(value, shape, 'iso8601')
    else:
        node.text = str(value)


def _document(shapes, traits, shape_name, value, name, namespace):
    root = ElementTree.Element('')
    _element(shapes, traits, shape_name, value, root, name, namespace)
    return ElementTree.tostring(list(root)[0], encoding='utf-8')


def _body_root(content):
    """The answer's root element (an empty one for an empty body, as botocore's _initial_body_parse)."""
    if not content or not content.strip():
        return ElementTree.Element('')
    return ElementTree.fromstring(content)


class RestXmlClient(RestJsonClient):
    """A REST-XML client: REST-JSON's placement of members, XML bodies."""

    def _document(self, input_shape, members, payload, params, body_params, headers):
        model = self.MODEL
        if payload is not None:
            value = params.get(payload)
            if value is None:
                return b''
            member = members[payload]
            namespace = model.XML_TRAITS.get(input_shape, {}).get(payload, (None, False))[0]
            return _document(model.SHAPES, model.XML_TRAITS, member[1], value, member[2] if len(member) > 2 else payload,
                             namespace)
        if body_params:
            name, namespace = model.XML_ROOTS[input_shape]
            return _document(model.SHAPES, model.XML_TRAITS, input_shape, body_params, name, namespace)
        return b''

    def _body_members(self, content, shape_name):
        return _parse(self.MODEL.SHAPES, _body_root(content), shape_name)

    def _error_response(self, status, headers, raw):
        """botocore's RestXMLParser errors: ErrorResponse's Error (its RequestId), an Error root (the request id from
        the headers), else the status alone."""
        request = {'RequestId': headers.get('x-amz-request-id', ''), 'HostId': headers.get('x-amz-id-2', '')}
        try:
            root = _body_root(raw)
        except ElementTree.ParseError:
            root = None
        if root is None or _tag(root) == '':
            from botocore._nexus_responses import REASONS
            return {'Error': {'Code': str(status), 'Message': REASONS.get(status, '')}, 'ResponseMetadata': request}
        parsed = _flat(root)
        if _tag(root) == 'Error':
            parsed.pop('RequestId', None)
            parsed.pop('HostId', None)
            metadata = {'RequestId': headers['x-amzn-requestid']} if 'x-amzn-requestid' in headers else (
                request if 'x-amz-request-id' in headers else {})
            return {'Error': parsed, 'ResponseMetadata': metadata}
        error = {'Error': {'Message': '', 'Code': ''}}
        if 'RequestId' in parsed:
            error['ResponseMetadata'] = {'RequestId': parsed.pop('RequestId')}
        for key, value in parsed.items():
            if isinstance(value, dict) and isinstance(error.get(key), dict):
                error[key].update(value)
            else:
                error[key] = value
        error.setdefault('ResponseMetadata', {})
        return error

    def _modeled_fields(self, code, headers, raw):
        shape = self._error_shape(code)
        if shape is None:
            return {}
        fields = self._located(None, headers, shape)
        fields.update(_parse(self.MODEL.SHAPES, error_root(_body_root(raw)), shape))
        return fields

