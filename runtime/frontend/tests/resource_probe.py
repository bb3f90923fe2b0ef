# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Every resource of the named services' resources-1.json used as a handler would use it, with the stand-in first on
sys.path (``standin``: resources made by boto3/resources/factory.py) or with Debian's real boto3 (``real``), every
request answered with an answer generated from the operation's model (model_client_probe.py's): each resource's
class name, repr, members and sub-resources; its load and every attribute after it; every action (the inputs the
resource does not fill generated from the model), reference, sub-resource and waiter; every collection (all, limit,
page_size, filter) paged as its paginator pages, and every batch action. Prints JSON records (what was sent and what
came back) that test_resources_model.py compares.

  /usr/bin/python3 resource_probe.py standin|real SERVICE[,SERVICE...]
"""

import json
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(1, HERE)
from model_client_probe import Answers, Inputs, answering_transport, configs_of, load_model, normal  # noqa: E402

BOTO3_DATA = '/usr/lib/python3/dist-packages/boto3/data'


def definitions(service):
    folder = os.path.join(BOTO3_DATA, service)
    with open(os.path.join(folder, sorted(os.listdir(folder))[-1], 'resources-1.json')) as f:
        return json.load(f)


def operation_of(record, model):
    """The operation a request calls: the JSON protocol's target header, the query and EC2 protocols' Action, else
    (REST) the operation whose method and URI template match best (the most literal characters)."""
    protocol = model['metadata']['protocol']
    if protocol == 'json':
        return record['headers']['x-amz-target'].rsplit('.', 1)[-1]
    if protocol in ('query', 'ec2'):
        return dict(record['body'])['Action']
    best = None
    for name, op in model['operations'].items():
        uri = op['http']['requestUri'].split('?')[0]
        pattern = re.sub(r'\\\{[^}]+\\\+\\\}', '.+', re.sub(r'\\\{[^}+]+\\\}', '[^/]+', re.escape(uri)))
        if op['http']['method'] == record['method'] and re.fullmatch(pattern, record['path']):
            literal = len(re.sub(r'\{[^}]+\}', '', uri))
            if best is None or literal > best[0]:
                best = (literal, name)
    return best[1] if best else None


def shown(value):
    """normal() that also shows resources (class, identifiers, data) and collections (repr)."""
    if hasattr(value, 'meta') and hasattr(value.meta, 'identifiers'):
        return ['resource', type(value).__name__, [shown(getattr(value, n)) for n in value.meta.identifiers],
                shown(value.meta.data)]
    if type(value).__name__.endswith(('Collection', 'CollectionManager')):
        return ['collection', repr(value)]
    if isinstance(value, dict):
        return {str(k): shown(v) for k, v in value.items() if k != 'ResponseMetadata'}
    if isinstance(value, (list, tuple)):
        return [shown(v) for v in value]
    return normal(value)


def main(mode, services):
    if mode == 'standin':
        sys.path.insert(0, os.path.dirname(HERE))
    import boto3
    import botocore
    from botocore import xform_name
    from botocore.config import Config
    time.sleep = lambda seconds: None   # waiters' and retries' delays
    state = {}

    def answer(record):
        queue = state['answers'].get(operation_of(record, state['model']))
        if queue is None:
            return state['answers_model'].error_code('NotAnswered')
        return queue.pop(0) if len(queue) > 1 else queue[0]

    def recorded(record):
        state['requests'].append(record)
        return answer(record)
    send = answering_transport(mode, recorded)

    out = {}
    for service in services:
        model, defs = load_model(service), definitions(service)
        inputs, answers = Inputs(model['shapes']), Answers(model)
        state['model'], state['answers_model'] = model, answers
        paginators = configs_of(service, 'paginators-1', 'pagination')
        # Every operation answered with its generated answer; a paginated one with three pages.
        generated = {name: [answers.answer(name, op)] for name, op in model['operations'].items()}

        def run(key, call, pages_of=()):
            state['requests'] = []
            state['answers'] = dict(generated)
            for operation in pages_of:
                if operation in paginators:
                    state['answers'][operation] = answers.pages(operation, model['operations'][operation],
                                                                paginators[operation])
            try:
                result = ['ok', shown(call())]
            except Exception as e:  # the outcome is the record
                result = ['error', type(e).__name__, str(e)[:300]]
            out[f'{service}:{key}'] = {'result': result, 'requests': state['requests']}

        config = Config(retries={'max_attempts': 0}, parameter_validation=True,
                        **({} if mode == 'standin' else {'signature_version': botocore.UNSIGNED}))
        service_resource = boto3.resource(service, region_name='us-east-1', config=config)
        if mode == 'real':
            service_resource.meta.client.meta.events.register('before-send', send)
        resources = [(service, service_resource, defs['service'])]
        for name in service_resource.get_available_subresources():
            has = defs['service'].get('has', {}).get(name, {'resource': {'type': name}})['resource']
            wanted = [i for i in has.get('identifiers', [{'source': 'input'}] * len(
                defs['resources'][has['type']].get('identifiers', []))) if i['source'] == 'input']
            resource = getattr(service_resource, name)(*[f'{name}-id{i}' for i in range(len(wanted))])
            resources.append((name, resource, defs['resources'][has['type']]))
        for name, resource, definition in resources:
            public = sorted(n for n in dir(resource) if not n.startswith('_'))
            out[f'{service}:{name}:surface'] = {'result': [type(resource).__name__, repr(resource), public,
                                                           resource.get_available_subresources()]}
            load = definition.get('load', {}).get('request', {}).get('operation')
            if load:
                run(f'{name}:load', lambda r=resource: (r.load(), r.meta.data)[1])
            # Every attribute, identifier and reference (after the load, or raising what boto3 raises without one).
            for attribute in public:
                if isinstance(getattr(type(resource), attribute, None), property):
                    run(f'{name}.{attribute}', lambda r=resource, a=attribute: getattr(r, a))
            for action, action_definition in sorted(definition.get('actions', {}).items()):
                operation = action_definition['request']['operation']
                method = xform_name(action)
                method = method if callable(getattr(type(resource), method, None)) else method + '_action'
                filled = {p['target'].split('.')[0].split('[')[0] for p in action_definition['request'].get('params', [])}
                op = model['operations'][operation]
                params = {k: v for k, v in inputs.call_params(op['input']['shape']).items() if k not in filled} \
                    if 'input' in op else {}
                if service == 'ec2':
                    params.pop('DryRun', None)
                run(f'{name}.{method}()', lambda r=resource, m=method, p=params: getattr(r, m)(**p))
            for waiter in sorted(definition.get('waiters', {})):
                method = xform_name('WaitUntil' + waiter)
                run(f'{name}.{method}()', lambda r=resource, m=method: getattr(r, m)(
                    WaiterConfig={'Delay': 0, 'MaxAttempts': 2}))
            for collection, collection_definition in sorted(definition.get('hasMany', {}).items()):
                operation = collection_definition['request']['operation']
                attribute = xform_name(collection)
                attribute = attribute if hasattr(type(resource), attribute) else attribute + '_collection'
                manager = getattr(resource, attribute)
                run(f'{name}.{attribute}', lambda m=manager: repr(m))
                run(f'{name}.{attribute}.all()', lambda m=manager: list(m.all()), [operation])
                run(f'{name}.{attribute}.limit(3)', lambda m=manager: list(m.limit(3)), [operation])
                run(f'{name}.{attribute}.page_size(2)', lambda m=manager: [list(p) for p in m.page_size(2).pages()],
                    [operation])
                run(f'{name}.{attribute}.filter()', lambda m=manager: list(m.filter(Extra=['a']).filter(Extra=['b'])),
                    [operation])
                item_type = collection_definition['resource']['type']
                for batch in sorted(defs['resources'].get(item_type, {}).get('batchActions', {})):
                    method = xform_name(batch)
                    run(f'{name}.{attribute}.{method}()', lambda m=manager, b=method: getattr(m.all(), b)(),
                        [operation])
    json.dump(out, sys.stdout, sort_keys=True)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2].split(','))
