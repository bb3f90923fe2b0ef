# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Writes the slice of a botocore service model that a stand-in model-driven client needs (validation, serialization,
parsing): the named operations' shapes, every error shape of the service, nothing else (no documentation).

  /usr/bin/python3 model_slice.py dynamodb GetItem,PutItem,... > botocore/_nexus_ddb_model.py

The model is read from Debian's botocore (the version the stand-in matches); tests/test_model_slice.py regenerates
the committed slice and requires it unchanged, so a drift of the model is seen.
"""

import os
import sys

# The stand-in's botocore (this folder is the script's, first on sys.path): its model reader.
from botocore._nexus_model_reader import (errors_of, operation_entry, operation_refusal, reachable, read_model_file,
                                          retryable_errors, steering_members)

BOTOCORE = '/usr/lib/python3/dist-packages/botocore'


def model_path(service):
    root = os.path.join(BOTOCORE, 'data', service)
    version = sorted(os.listdir(root))[-1]
    return os.path.join(root, version, 'service-2.json'), version


def slice_of(service, operations):
    path, version = model_path(service)
    model = read_model_file(os.path.dirname(path), 'service-2')
    shapes = model['shapes']
    protocol = model['metadata']['protocol']
    table = {}
    generic_when = {}
    retryable = {}
    http = {}
    roots = []
    for operation in operations:
        op = model['operations'][operation]
        http[operation] = (op['http']['method'], op['http']['requestUri'])
        refusal = operation_refusal(operation, op, shapes)
        if refusal:
            raise ValueError(refusal)
        table[operation] = operation_entry(op, shapes)
        roots.append(op['input']['shape'])
        if op.get('output'):
            roots.append(op['output']['shape'])
        steered = steering_members(op, shapes)
        if steered:
            generic_when[operation] = steered
        modeled = retryable_errors(op, shapes)
        if modeled:
            retryable[operation] = modeled
    errors, codes = errors_of(shapes)
    wanted = reachable(shapes, roots + errors, protocol, {})
    return model['metadata'], version, table, generic_when, retryable, http, errors, codes, wanted


def main(argv):
    service, operations = argv[1], argv[2].split(',')
    metadata, version, table, generic_when, retryable, http, errors, codes, shapes = slice_of(service, operations)
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
        "# The model's metadata, as client.meta.service_model.metadata gives it.",
        f'METADATA = {metadata!r}',
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
            "# Operation -> {error code: throttling} of its errors with the retryable trait (standard, adaptive modes).",
            f'RETRYABLE = {retryable!r}', '',
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
