# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A resources-1.json definition read as boto3 reads it: which names a resource's identifiers, actions, sub-resources,
references, collections, waiters and attributes get (boto3's order of precedence, a clash renamed ``<name>_<kind>``),
and where each one's parameters and identifiers come from. Facts from boto3 1.26's resources/model.py; the shapes
are the service's botocore model's (see ServiceShapes)."""

import json
import os

from botocore import xform_name

WAITER_PREFIX = 'WaitUntil'


def definitions_file(data, service_name, api_version=None):
    """(api version, path) of a service's resources-1.json in boto3's data folder ``data``: the newest version, or the
    one asked for; None when there is none."""
    folder = os.path.join(data, service_name)
    if not os.path.isdir(folder):
        return None
    versions = sorted(v for v in os.listdir(folder) if os.path.exists(os.path.join(folder, v, 'resources-1.json')))
    if not versions or (api_version is not None and api_version not in versions):
        return None
    version = api_version or versions[-1]
    return version, os.path.join(folder, version, 'resources-1.json')


def read_definitions(path):
    with open(path) as f:
        return json.load(f)


class Parameter:
    """Where a request parameter or a built resource's identifier comes from (``source``: identifier, data, input,
    response, requestParameter, string, integer, boolean) and where it goes (``target``)."""

    __slots__ = ('target', 'source', 'name', 'path', 'value')

    def __init__(self, target, source, name=None, path=None, value=None):
        self.target, self.source, self.name, self.path, self.value = target, source, name, path, value


def parameters(definition):
    return [Parameter(**item) for item in definition.get('params', definition.get('identifiers', ()))]


class ResourceModel:
    """One resource's definition (or the service resource's: ``definition`` is resources-1.json's ``service``) with
    its names resolved."""

    def __init__(self, name, definition, resource_definitions, shape_members=None):
        self.name = name
        self.definition = definition
        self.resource_definitions = resource_definitions
        self.shape = definition.get('shape')
        self._renamed = {}
        self._rename(shape_members or ())

    def _rename(self, shape_members):
        # boto3's precedence: load, identifiers, actions, sub-resources (CamelCase) and references, collections,
        # waiters, attributes; a later name that clashes gets its kind appended.
        taken = {'meta'} | ({'load'} if self.definition.get('load') else set())

        def take(name, kind, snake_case=True):
            name = xform_name(name) if snake_case else name
            if name in taken:
                self._renamed[(kind, name)] = name = f'{name}_{kind}'
                if name in taken:
                    raise ValueError(f'Problem renaming {self.name} {kind} {name[:-len(kind) - 1]} to {name}!')
            taken.add(name)

        for item in self.definition.get('identifiers', ()):
            take(item['name'], 'identifier')
        for name in self.definition.get('actions', {}):
            take(name, 'action')
        for name, has in self.has().items():
            if _needs_data(has):
                take(name, 'reference')
            else:
                take(name, 'subresource', snake_case=False)
        for name in self.definition.get('hasMany', {}):
            take(name, 'collection')
        for name in self.definition.get('waiters', {}):
            take(WAITER_PREFIX + name, 'waiter')
        for name in shape_members:
            take(name, 'attribute')

    def name_of(self, kind, name, snake_case=True):
        name = xform_name(name) if snake_case else name
        return self._renamed.get((kind, name), name)

    def identifiers(self):
        """[(python name, the shape member it aliases or None)]."""
        return [(self.name_of('identifier', item['name']),
                 self.name_of('attribute', item['memberName']) if item.get('memberName') else None)
                for item in self.definition.get('identifiers', ())]

    def attributes(self, shape_members):
        """{python name: member name} of the shape's members that are not identifiers."""
        identifiers = {name for name, _ in self.identifiers()}
        out = {}
        for member in shape_members:
            snake = xform_name(member)
            if snake not in identifiers:
                out[self.name_of('attribute', snake, snake_case=False)] = member
        return out

    def actions(self):
        return [(self.name_of('action', name), action) for name, action in self.definition.get('actions', {}).items()]

    def batch_actions(self):
        return [(self.name_of('batch_action', name), action)
                for name, action in self.definition.get('batchActions', {}).items()]

    def collections(self):
        return [(self.name_of('collection', name), collection)
                for name, collection in self.definition.get('hasMany', {}).items()]

    def waiters(self):
        return [(self.name_of('waiter', WAITER_PREFIX + name), waiter)
                for name, waiter in self.definition.get('waiters', {}).items()]

    def subresources(self):
        return [(self.name_of('subresource', name, snake_case=False), has)
                for name, has in self.has().items() if not _needs_data(has)]

    def references(self):
        return [(self.name_of('reference', name), has) for name, has in self.has().items() if _needs_data(has)]

    def has(self):
        """The ``has`` relations; the service resource has one to every resource of the service (one it does not
        name takes all of the resource's identifiers as input: ``sqs.Queue(url)``)."""
        if self.name in self.resource_definitions:
            return self.definition.get('has', {})
        named = self.definition.get('has', {})
        out = {}
        for resource, definition in self.resource_definitions.items():
            found = {name: has for name, has in named.items() if has.get('resource', {}).get('type') == resource}
            out.update(found)
            if not found:
                out[resource] = {'resource': {'type': resource, 'identifiers': [
                    {'target': item['name'], 'source': 'input'} for item in definition.get('identifiers', ())]}}
        return out


def _needs_data(has):
    return any(item['source'] == 'data' for item in has['resource'].get('identifiers', ()))
