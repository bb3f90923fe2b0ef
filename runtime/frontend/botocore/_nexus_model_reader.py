# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A botocore service model (service-2.json) read into the compact shapes the stand-in's model-driven clients use, and
what of an operation they cannot send as botocore would. model_slice.py writes the curated slices with it; the
model-read clients (_nexus_model_clients.py) read whole models of the function image's botocore with it.

Compact shapes: (type, ...) tuples: structure (required, members as (name, shape[, wire name[, REST location[, JSON
value]]])[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value
name), string/integer/long/double/float (min), timestamp ([its own timestampFormat]), document, others (type,).
"""

import json
import os
import re

# The REST locations a rest-json member may have in the stand-in's shapes.
_REST_LOCATIONS = ('uri', 'querystring', 'header', 'headers', 'statusCode')


def compact(name, shape, protocol, shapes):
    """A shape as a tuple: (type, ...) with what validation, serialization and parsing read (``shapes``: the model's,
    for its members' own traits)."""
    kind = shape['type']
    if shape.get('document'):
        # A JSON document member: any JSON value, parsed as it is (never sent: refused in inputs).
        return ('document',)
    if kind == 'structure':
        members = []
        for member, ref in shape['members'].items():
            location = ref.get('location')
            # A member's wire name: its own, else its shape's (botocore merges a shape's traits under the member's).
            wire = ref.get('locationName', shapes[ref['shape']].get('locationName', member))
            if location is not None:
                # The REST protocols place a member in the URI, query string, headers or status code.
                if protocol not in ('rest-json', 'rest-xml') or location not in _REST_LOCATIONS:
                    raise ValueError(f'{name}.{member} is bound to {location}: not a {protocol} body member')
                members.append((member, member_shape(ref), wire, location)
                               + ((True,) if ref.get('jsonvalue') else ()))
            else:
                target = member_shape(ref)
                members.append((member, target) if wire == member else (member, target, wire))
        return ('structure', tuple(shape.get('required', ())), tuple(members)) + \
            ((shape['payload'],) if 'payload' in shape else ())
    if kind == 'list':
        # The query protocol's XML and form names: a flattened list's elements, its member's name.
        return ('list', shape['member']['shape'], shape.get('min'), bool(shape.get('flattened')),
                shape['member'].get('locationName'))
    if kind == 'map':
        return ('map', shape['key']['shape'], shape['value']['shape'], bool(shape.get('flattened')),
                shape['key'].get('locationName', 'key'), shape['value'].get('locationName', 'value'))
    if kind in ('string', 'integer', 'long', 'double', 'float'):
        return (kind, shape.get('min'))
    if kind == 'timestamp' and 'timestampFormat' in shape:
        return (kind, shape['timestampFormat'])
    return (kind,)


def input_refusal(shapes, name, seen=None, top=True):
    """Why the stand-in's serializer cannot send an input shape as botocore does (None when it can): documents,
    unions, event streams, host labels, header maps, JSON values outside headers, idempotency tokens below the top
    (botocore's handler fills only the top's)."""
    seen = set() if seen is None else seen
    if name in seen:
        return None
    seen.add(name)
    shape = shapes[name]
    if shape.get('document') or shape.get('union') or shape.get('eventstream'):
        return f'input shape {name} is a {shape["type"]} the stand-in does not serialize'
    for member, ref in shape.get('members', {}).items():
        if (ref.get('idempotencyToken') and not top) or ref.get('hostLabel') or \
                (ref.get('jsonvalue') and ref.get('location') != 'header') or ref.get('location') == 'headers':
            return f'{name}.{member} is filled or placed by botocore itself'
        refusal = input_refusal(shapes, ref['shape'], seen, False)
        if refusal:
            return refusal
    for key in ('member', 'key', 'value'):
        if key in shape:
            refusal = input_refusal(shapes, shape[key]['shape'], seen, False)
            if refusal:
                return refusal
    return None


def operation_refusal(operation, op, shapes, serves_no_input=False):
    """Why an operation is not one the model-driven clients send (None when it is): a host prefix, endpoint discovery
    or a checksum botocore adds, or an input its serializer does not write; no input at all unless
    ``serves_no_input`` (the model-read clients send such calls as NO_INPUT; the curated slices leave them out)."""
    if 'endpoint' in op or op.get('endpointdiscovery') or op.get('endpointoperation') or 'httpChecksum' in op or \
            op.get('httpChecksumRequired'):
        return f"{operation} needs botocore's host prefix, endpoint discovery or checksums"
    if 'input' not in op:
        return None if serves_no_input else f'{operation} takes no input (botocore checks its call differently)'
    return input_refusal(shapes, op['input']['shape'])


def member_shape(ref):
    """The shape a member refers to; a list or map the member flattens (SQS's BinaryListValues) is a shape of its own,
    '<shape>|flattened', as botocore applies a member's serialization traits to its shape."""
    return ref['shape'] + '|flattened' if ref.get('flattened') else ref['shape']


def reachable(shapes, roots, protocol, into):
    """Adds the compact form of every shape reachable from ``roots`` to ``into``."""
    pending = list(roots)
    while pending:
        name = pending.pop()
        if name in into:
            continue
        base, _, trait = name.partition('|')
        shape = shapes[base] if not trait else dict(shapes[base], flattened=True)
        into[name] = compact(name, shape, protocol, shapes)
        pending.extend(member_shape(ref) for ref in shape.get('members', {}).values())
        pending.extend(shape[key]['shape'] for key in ('member', 'key', 'value') if key in shape)
    return into


# The input shape of an operation that has none: an empty structure. botocore neither checks nor sends what such a
# call is given (ModelClient._call drops it); the request is the protocol's with no members.
NO_INPUT = '<no input>'
NO_INPUT_SHAPE = ('structure', (), ())


def operation_entry(op, shapes):
    """(input shape, output shape, idempotency tokens botocore fills, the XML result wrapper) of an operation."""
    input_shape = op['input']['shape'] if 'input' in op else NO_INPUT
    output = op.get('output', {})
    tokens = () if 'input' not in op else \
        tuple(member for member, ref in shapes[input_shape]['members'].items() if ref.get('idempotencyToken'))
    return (input_shape, output.get('shape'), tokens, output.get('resultWrapper'))


def steering_members(op, shapes):
    """The input members that choose botocore's endpoint (contextParam): a call setting one is the real botocore's."""
    if 'input' not in op:
        return ()
    return tuple(member for member, ref in shapes[op['input']['shape']]['members'].items() if 'contextParam' in ref)


def retryable_errors(op, shapes):
    """{error code: whether it is throttling} of the operation's errors whose shape has the ``retryable`` trait: what
    botocore's standard and adaptive modes retry besides the transient and throttling codes (ModeledRetryErrorDetector
    reads only the operation's own errors)."""
    out = {}
    for ref in op.get('errors', ()):
        shape = shapes[ref['shape']]
        if 'retryable' in shape:
            out[shape.get('error', {}).get('code') or ref['shape']] = bool(shape['retryable'].get('throttling'))
    return out


def errors_of(shapes):
    """Every error shape of the service, and the codes that are not their shape's name (SQS's
    AWS.SimpleQueueService.NonExistentQueue)."""
    errors = sorted(name for name, shape in shapes.items() if shape.get('exception'))
    codes = {shapes[name]['error']['code']: name for name in errors
             if shapes[name].get('error', {}).get('code', name) != name}
    return errors, codes


def read_model_file(folder, kind):
    """A model file of a service's version folder (``kind``: service-2, paginators-1, ...) as botocore's loader reads
    it: its ``kind.sdk-extras.json`` beside it, when there is one, merged in (the fixes botocore ships beside
    its models: CloudControl's ListResources paginator keeps TypeName, ...). None when there is no such file."""
    path = os.path.join(folder, kind + '.json')
    if not os.path.exists(path):
        return None
    with open(path) as f:
        data = json.load(f)
    extras = os.path.join(folder, kind + '.sdk-extras.json')
    if os.path.exists(extras):
        with open(extras) as f:
            deep_merge(data, json.load(f).get('merge', {}))
    return data


def read_shape(folder, name):
    """One shape of a service's service-2.json (``folder``: its version folder), found in the file's bytes and decoded
    alone: a resource's attribute names without decoding, or compacting, the whole model (DynamoDB's Table when only
    item calls were made: 0.4 MB of JSON). The whole file is read when the bytes do not show it plainly."""
    with open(os.path.join(folder, 'service-2.json'), 'rb') as f:
        data = f.read()
    pattern = re.compile(rb'"%s"\s*:\s*(?=\{)' % re.escape(name.encode()))
    start = data.find(b'"shapes"')
    for found in pattern.finditer(data, start) if start >= 0 else ():
        value = object_at(data, found.end())
        if 'type' in value:   # the shape itself, not a member named after it
            return value
    return read_model_file(folder, 'service-2')['shapes'][name]


def object_at(data, position):
    """The JSON object that starts at ``position`` of a file's bytes, decoded from a window of them widened until the
    object ends inside it (a character cut at the window's end is dropped)."""
    decoder = json.JSONDecoder()
    window = 1 << 14
    while True:
        try:
            return decoder.raw_decode(data[position:position + window].decode('utf-8', 'ignore'))[0]
        except json.JSONDecodeError:
            if position + window >= len(data):
                raise
            window *= 4


def deep_merge(base, extra):
    """botocore's deep_merge (and merge_dicts without append_lists): dicts merged key by key, anything else replaced."""
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            deep_merge(base[key], value)
        else:
            base[key] = value


def ec2_names(shapes, compacted):
    """The EC2 protocol's form names of the structures' members where they are not the member's name, {structure:
    {member: name}}: a member's queryName, else its locationName with a capital first letter (botocore's
    EC2Serializer; a member's traits over its shape's)."""
    out = {}
    for name in compacted:
        if name == NO_INPUT:
            continue
        shape = shapes[name.partition('|')[0]]
        for member, ref in shape.get('members', {}).items():
            target = shapes[ref['shape']]
            query = ref.get('queryName', target.get('queryName'))
            location = ref.get('locationName', target.get('locationName'))
            wire = query if query is not None else (location[0].upper() + location[1:] if location else member)
            if wire != member:
                out.setdefault(name, {})[member] = wire
    return out


def xml_traits(shapes, compacted, operations):
    """REST-XML's member traits besides the wire name, {structure: {member: (xmlNamespace or None, xmlAttribute)}}
    where either is set (a member's over its shape's, as botocore merges them), and the root element of each input
    sent as a body of members, {input structure: (locationName, xmlNamespace)} (the operation's input reference's
    over its shape's)."""
    traits, roots = {}, {}
    for op in operations.values():
        ref = op.get('input')
        if ref is not None:
            shape = shapes[ref['shape']]
            roots[ref['shape']] = (ref.get('locationName', shape.get('locationName', ref['shape'])),
                                   ref.get('xmlNamespace', shape.get('xmlNamespace')))
    for name in compacted:
        if name == NO_INPUT:
            continue
        shape = shapes[name.partition('|')[0]]
        if shape['type'] != 'structure':
            continue
        for member, ref in shape.get('members', {}).items():
            target = shapes[ref['shape']]
            namespace = ref.get('xmlNamespace', target.get('xmlNamespace'))
            attribute = bool(ref.get('xmlAttribute', target.get('xmlAttribute')))
            if namespace or attribute:
                traits.setdefault(name, {})[member] = (namespace, attribute)
    return traits, roots
