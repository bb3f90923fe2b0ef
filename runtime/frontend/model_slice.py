# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Writes the slice of a botocore service model that a stand-in model-driven client needs (validation, serialization,
parsing): the named operations' shapes, every error shape of the service, nothing else (no documentation).

  /usr/bin/python3 model_slice.py dynamodb GetItem,PutItem,... > botocore/_nexus_ddb_model.py

The model is read from Debian's botocore (the version the stand-in matches); tests/test_model_slice.py regenerates
the committed slice and requires it unchanged, so a drift of the model is seen.
"""

import json
import os
import sys

BOTOCORE = '/usr/lib/python3/dist-packages/botocore'


def model_path(service):
    root = os.path.join(BOTOCORE, 'data', service)
    version = sorted(os.listdir(root))[-1]
    return os.path.join(root, version, 'service-2.json'), version


def compact(name, shape, protocol):
    """A shape as a tuple: (type, ...) with what validation, serialization and parsing read."""
    kind = shape['type']
    if kind == 'structure':
        members = []
        for member, ref in shape['members'].items():
            location = ref.get('location')
            if location is not None:
                # The REST protocols place a member in the URI, query string, headers or status code.
                if protocol != 'rest-json' or location not in ('uri', 'querystring', 'header', 'headers', 'statusCode'):
                    raise ValueError(f'{name}.{member} is bound to {location}: not a {protocol} body member')
                members.append((member, ref['shape'], ref.get('locationName', member), location)
                               + ((True,) if ref.get('jsonvalue') else ()))
            else:
                members.append((member, ref['shape']) if ref.get('locationName', member) == member
                               else (member, ref['shape'], ref['locationName']))
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


def slice_of(service, operations):
    path, version = model_path(service)
    with open(path) as f:
        model = json.load(f)
    shapes = model['shapes']
    wanted = {}

    protocol = model['metadata']['protocol']

    def walk(name):
        if name in wanted:
            return
        shape = shapes[name]
        wanted[name] = compact(name, shape, protocol)
        for ref in shape.get('members', {}).values():
            walk(ref['shape'])
        for key in ('member', 'key', 'value'):
            if key in shape:
                walk(shape[key]['shape'])

    def check_input(name, seen, top):
        """What the stand-in's serializer does not do must not be in an input: refused here, not sent wrong. An
        idempotency token is filled by botocore (a new UUID when the call has none): only at the top, as its handler."""
        if name in seen:
            return
        seen.add(name)
        shape = shapes[name]
        if shape.get('document') or shape.get('union') or shape.get('eventstream'):
            raise ValueError(f'input shape {name} is a {shape["type"]} the stand-in does not serialize')
        for member, ref in shape.get('members', {}).items():
            if (ref.get('idempotencyToken') and not top) or ref.get('hostLabel') or \
                    (ref.get('jsonvalue') and ref.get('location') != 'header') or ref.get('location') == 'headers':
                raise ValueError(f'{name}.{member} is filled or placed by botocore itself')
            check_input(ref['shape'], seen, False)
        for key in ('member', 'key', 'value'):
            if key in shape:
                check_input(shape[key]['shape'], seen, False)

    table = {}
    generic_when = {}
    http = {}
    for operation in operations:
        op = model['operations'][operation]
        http[operation] = (op['http']['method'], op['http']['requestUri'])
        if 'endpoint' in op or op.get('endpointdiscovery') or 'httpChecksum' in op:
            raise ValueError(f"{operation} needs botocore's host prefix, endpoint discovery or checksums")
        check_input(op['input']['shape'], set(), True)
        walk(op['input']['shape'])
        output = op.get('output', {})
        if output:
            walk(output['shape'])
        tokens = tuple(member for member, ref in shapes[op['input']['shape']]['members'].items()
                       if ref.get('idempotencyToken'))
        table[operation] = (op['input']['shape'], output.get('shape'), tokens, output.get('resultWrapper'))
        steered = tuple(member for member, ref in shapes[op['input']['shape']]['members'].items()
                        if 'contextParam' in ref)
        if steered:
            generic_when[operation] = steered
    errors = sorted(name for name, shape in shapes.items() if shape.get('exception'))
    for name in errors:
        walk(name)
    # An error's code where it is not its shape's name (SQS: AWS.SimpleQueueService.NonExistentQueue).
    codes = {shapes[name]['error']['code']: name for name in errors
             if shapes[name].get('error', {}).get('code', name) != name}
    return model['metadata'], version, table, generic_when, http, errors, codes, wanted


def main(argv):
    service, operations = argv[1], argv[2].split(',')
    metadata, version, table, generic_when, http, errors, codes, shapes = slice_of(service, operations)
    if metadata['protocol'] not in ('json', 'query', 'rest-json'):
        raise ValueError(f"{service} speaks {metadata['protocol']}; the stand-in's model-driven clients speak json, query and rest-json")
    with open(os.path.join(BOTOCORE, '__init__.py')) as f:
        botocore_version = next(line.split("'")[1] for line in f if line.startswith('__version__'))
    out = [
        '# Copyright (c) Nexus contributors.',
        '# Licensed under the MIT license.',
        f'"""The slice of the {service} model ({version}, botocore {botocore_version}) the stand-in client reads.',
        '',
        'Written by runtime/frontend/model_slice.py (do not edit):',
        f'  /usr/bin/python3 model_slice.py {service} {",".join(operations)}',
        'Shapes: (type, ...): structure (required, members as (name, shape[, wire name[, REST location[, JSON value]]])',
        '[, payload member]), list (member, min, flattened, member name), map (key, value, flattened, key name, value',
        'name), string/integer/long/double (min), timestamp ([its own timestampFormat]), others (type,).',
        '"""',
        '',
        f'SERVICE = {service!r}',
        f'PROTOCOL = {metadata["protocol"]!r}',
        f'TARGET_PREFIX = {metadata.get("targetPrefix")!r}',
        f'JSON_VERSION = {metadata.get("jsonVersion")!r}',
        f'API_VERSION = {metadata["apiVersion"]!r}',
        f'ENDPOINT_PREFIX = {metadata["endpointPrefix"]!r}',
        '',
        '# Operation -> (input shape, output shape, idempotency tokens botocore fills, the XML result wrapper).',
        'OPERATIONS = {',
    ]
    out += [f'    {name!r}: {shapes_!r},' for name, shapes_ in table.items()]
    out += ['}', '']
    if metadata['protocol'] == 'rest-json':
        out += ['# Operation -> (HTTP method, request URI template).', 'HTTP = {']
        out += [f'    {name!r}: {route!r},' for name, route in http.items()]
        out += ['}', '']
    out += ["# Operation -> its members that choose botocore's endpoint (contextParam): a call that sets one",
            "# is the real botocore's (generic path).", f'GENERIC_WHEN = {generic_when!r}', '',
            '# Every error shape of the service (client.exceptions names them all).',
            'ERRORS = (', *[f'    {name!r},' for name in errors], ')', '',
            "# Error code -> shape, where the code is not the shape's name.", f'ERROR_CODES = {codes!r}', '',
            'SHAPES = {']
    out += [f'    {name!r}: {shape!r},' for name, shape in sorted(shapes.items())]
    out += ['}', '']
    sys.stdout.write('\n'.join(out))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
