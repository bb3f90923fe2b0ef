# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Resources made from boto3's resources-1.json (read from the function image's boto3 data, the real boto3 not imported)
over the stand-in's clients: ``boto3.resource('sqs')``, ``'sns'``, ``'ec2'``, ``'cloudwatch'``, ``'cloudformation'``,
``'opsworks'`` and ``'dynamodb'`` (its client with boto3's high-level interface, resources/dynamodb.py). Each resource
class has boto3's identifiers, attributes (loaded on first read), actions, sub-resources, references, collections (with
their batch actions) and waiters, with boto3 1.26's names, parameters and results (facts from its resources/factory.py,
action.py, params.py, response.py and collection.py); EC2's two hand-written methods (ServiceResource.create_tags,
Instance.delete_tags) and DynamoDB's Table.batch_writer too. The calls are the client's: a model-driven client serves
them, or, for an operation it leaves to the real botocore, the generic path."""

import re

from boto3.exceptions import ResourceLoadException
from boto3.resources.base import ResourceMeta, ServiceResource
from boto3.resources.model import ResourceModel, parameters
from botocore import xform_name


def stand_in_resource(session, service_name, region_name, api_version, endpoint_url, config, credentials=None,
                      client=None):
    """``session.resource(service_name)`` made from the service's resources-1.json over the stand-in's client (the one
    given, else one the session makes); None when the real boto3 must make it (no definitions, a client only the real
    botocore makes, no jmespath)."""
    import importlib.util
    from boto3.resources.model import definitions_file, read_definitions
    from botocore._nexus_sdk_data import data_folder
    from botocore._nexus_service import stand_in_client_class
    data = data_folder('boto3')
    found = definitions_file(data, service_name, api_version) if data else None
    if found is None or importlib.util.find_spec('jmespath') is None:
        return None
    # The client of the version asked for (None: the newest, which is the resources' for every service here).
    client_class = stand_in_client_class(service_name, api_version)
    if client_class is None:
        return None
    if client is None:
        client = session.client(service_name, region_name=region_name, api_version=api_version,
                                endpoint_url=endpoint_url, config=config, **credentials)
    context = ServiceContext(service_name, read_definitions(found[1]), client_class)
    return context.resource_class(service_name)(client=client)


class ServiceContext:
    """A service's resource definitions and what they need of its botocore model (shape members, output shapes);
    the resource classes are made once per context."""

    def __init__(self, service_name, definitions, client_class):
        self.service_name = service_name
        self.resource_definitions = definitions['resources']
        self.service_definition = definitions['service']
        self._client_class = client_class
        self._raw = None
        self._classes = {}

    def resource_class(self, name):
        if name not in self._classes:
            self._classes[name] = _build_resource_class(self, name)
        return self._classes[name]

    # Shapes: the model-driven client's compact ones (already read: its slice, or the whole model where it is built),
    # else read from the model file (a shape only an operation outside the slice reaches, one the client leaves to
    # the real botocore).
    def _compact(self):
        from botocore._nexus_model_clients import model_client_class
        whole = model_client_class(self.service_name)
        return whole.MODEL if whole is not None else self._client_class.MODEL

    def _folder(self):
        import os
        from botocore._nexus_sdk_data import data_folder
        folder = os.path.join(data_folder(), self.service_name)
        return os.path.join(folder, sorted(os.listdir(folder))[-1])

    def _raw_shapes(self):
        if self._raw is None:
            from botocore._nexus_model_reader import read_model_file
            self._raw = read_model_file(self._folder(), 'service-2')
        return self._raw

    def shape_members(self, shape_name):
        from botocore._nexus_model_clients import built_classes
        for model in (self._client_class.MODEL, getattr(dict(built_classes()).get(self.service_name), 'MODEL', None)):
            shape = model.SHAPES.get(shape_name) if model is not None else None
            if shape is not None:
                return [member[0] for member in shape[2]]
        from botocore._nexus_model_reader import read_shape
        return list(read_shape(self._folder(), shape_name)['members'])

    def empty_response(self, operation, search_path):
        """What boto3 answers for an action whose answer names no resource: an empty value of the type its path
        reaches in the operation's output ({} for a structure or map, [] for a list, else None)."""
        model = self._compact()
        if operation in model.OPERATIONS:
            shapes, shape = model.SHAPES, model.OPERATIONS[operation][1]
            kind = lambda name: shapes[name][0]   # noqa: E731
            child = lambda name, part: (next(m[1] for m in shapes[name][2] if m[0] == part)   # noqa: E731
                                        if shapes[name][0] == 'structure' else shapes[name][1])
        else:
            raw = self._raw_shapes()
            shapes, shape = raw['shapes'], raw['operations'][operation].get('output', {}).get('shape')
            kind = lambda name: shapes[name]['type']   # noqa: E731
            child = lambda name, part: (shapes[name]['members'][part]['shape']   # noqa: E731
                                        if shapes[name]['type'] == 'structure' else shapes[name]['member']['shape'])
        if shape is None:
            return None
        for part in search_path.split('.') if search_path else ():
            if kind(shape) not in ('structure', 'list'):
                raise NotImplementedError(f'Search path hits shape type {kind(shape)} from {part}')
            shape = child(shape, part.strip('[0123456789]$'))
        return {'structure': {}, 'map': {}, 'list': []}.get(kind(shape))


class ModelResource(ServiceResource):
    """boto3's ServiceResource: identifiers given in their order or by name, each required; its own copy of meta."""

    def __init__(self, *args, **kwargs):
        self.meta = self.meta.copy()
        client = kwargs.get('client')
        if client is None:
            import boto3
            client = boto3.client(self.meta.service_name)
        self.meta.client = client
        for i, value in enumerate(args):
            setattr(self, '_' + self.meta.identifiers[i], value)   # more than its identifiers: IndexError, as boto3
        for name, value in kwargs.items():
            if name == 'client':
                continue
            if name not in self.meta.identifiers:
                raise ValueError(f'Unknown keyword argument: {name}')
            setattr(self, '_' + name, value)
        for name in self.meta.identifiers:
            if getattr(self, name) is None:
                raise ValueError(f'Required parameter {name} not set')


def _build_resource_class(context, name):
    service = context.service_name
    is_service = name == service
    definition = context.service_definition if is_service else context.resource_definitions.get(name, {})
    shape_members = context.shape_members(definition['shape']) if definition.get('shape') else ()
    model = ResourceModel(name, definition, context.resource_definitions, shape_members)
    meta = ResourceMeta(service, resource_model=model)
    attrs = {'meta': meta}
    identifiers = model.identifiers()
    for identifier, _ in identifiers:
        meta.identifiers.append(identifier)
        attrs[identifier] = _identifier_property(identifier)
    if definition.get('load'):
        attrs['load'] = attrs['reload'] = _load_method(context, definition['load'])
    for action_name, action in model.actions():
        attrs[action_name] = _action_method(context, action_name, action)
    if shape_members:
        aliases = {member: identifier for identifier, member in identifiers if member}
        for attribute, member in model.attributes(shape_members).items():
            attrs[attribute] = _identifier_property(aliases[attribute], attribute) if attribute in aliases \
                else _attribute_property(attribute, member)
    for collection_name, collection in model.collections():
        attrs[collection_name] = _collection_property(context, name, collection_name, collection)
    for reference_name, has in model.references():
        attrs[reference_name] = _reference_property(context, reference_name, has)
    subresources = model.subresources()
    for subresource_name, has in subresources:
        attrs[subresource_name] = _subresource_method(context, subresource_name, has)
    names = sorted(subresource_name for subresource_name, _ in subresources)
    attrs['get_available_subresources'] = lambda self: names
    for waiter_name, waiter in model.waiters():
        attrs[waiter_name] = _waiter_method(waiter_name, waiter)
    if service == 'ec2' and is_service:
        attrs['create_tags'] = _ec2_create_tags
    if service == 'ec2' and name == 'Instance':
        attrs['delete_tags'] = _ec2_delete_tags
    if service == 'dynamodb' and name == 'Table':
        from boto3.resources.dynamodb import batch_writer
        attrs['batch_writer'] = batch_writer
    class_name = f"{service}.{'ServiceResource' if is_service else name}"
    return type(class_name, (ModelResource,), attrs)


def _identifier_property(identifier, name=None):
    def get(self):
        return getattr(self, '_' + identifier, None)
    get.__name__ = name or identifier
    return property(get)


def _attribute_property(name, member):
    def get(self):
        if self.meta.data is None:
            if not hasattr(self, 'load'):
                raise ResourceLoadException(f'{self.__class__.__name__} has no load method')
            self.load()
        return self.meta.data.get(member)
    get.__name__ = name
    return property(get)


def _load_method(context, definition):
    call = _Call(context, definition)

    def load(self, *args, **kwargs):
        self.meta.data = call(self, args, kwargs)
    return load


def _action_method(context, name, definition):
    call = _Call(context, definition)

    def action(self, *args, **kwargs):
        response = call(self, args, kwargs)
        if hasattr(self, 'load'):
            self.meta.data = None   # read again on the next attribute
        return response
    action.__name__ = name
    return action


def _waiter_method(name, definition):
    waiter_name = xform_name(definition['waiterName'])

    def wait(self, *args, **kwargs):
        params = request_parameters(self, definition)
        params.update(kwargs)
        self.meta.client.get_waiter(waiter_name).wait(**params)
    wait.__name__ = name
    return wait


def _reference_property(context, name, has):
    handler = _ResourceHandler(context, has['resource'])

    def get(self):
        if self.meta.data is None and hasattr(self, 'load'):
            self.load()
        return handler(self, {}, self.meta.data)
    get.__name__ = name
    return property(get)


def _subresource_method(context, name, has):
    resource = has['resource']
    sources = parameters(resource)

    def make(self, *args, **kwargs):
        fixed = [value for _, value in built_identifiers(sources, self)]
        return context.resource_class(resource['type'])(*fixed, *args, client=self.meta.client, **kwargs)
    make.__name__ = name
    return make


def _collection_property(context, resource_name, name, definition):
    from boto3.resources.model_collection import collection_manager_class
    manager = collection_manager_class(context, resource_name, name, definition)

    def get(self):
        return manager(self)
    get.__name__ = name
    return property(get)


def _ec2_create_tags(self, **kwargs):
    """boto3's ec2 ServiceResource.create_tags: the call, then a Tag resource per resource and tag."""
    self.meta.client.create_tags(**kwargs)
    return [self.Tag(resource, tag['Key'], tag['Value'])
            for resource in kwargs.get('Resources', []) for tag in kwargs.get('Tags', [])]


def _ec2_delete_tags(self, **kwargs):
    """boto3's ec2 Instance.delete_tags: DeleteTags for this instance."""
    kwargs['Resources'] = [self.id]
    return self.meta.client.delete_tags(**kwargs)


class _Call:
    """An action: the request's parameters from the resource and the caller, the client's call, its answer handled
    (a resource or resources built, a path searched, or the answer as it is)."""

    def __init__(self, context, definition):
        self.request = definition['request']
        self.method = xform_name(self.request['operation'])
        resource = definition.get('resource')
        self.handler = _ResourceHandler(context, resource, self.request['operation']) if resource \
            else _raw_handler(definition.get('path'))

    def __call__(self, parent, args, kwargs):
        params = request_parameters(parent, self.request)
        params.update(kwargs)
        response = getattr(parent.meta.client, self.method)(*args, **params)
        return self.handler(parent, params, response)


def _raw_handler(path):
    def handle(parent, params, response):
        if path and path != '$':
            return _search(path, response)
        return response
    return handle


class _ResourceHandler:
    """The resource (or list of resources) an answer names: identifiers from the answer, the request, the parent or
    its data; a list identifier makes one resource per element, each given its element of ``path`` as its data."""

    def __init__(self, context, definition, operation=None):
        self.context = context
        self.type = definition['type']
        self.path = definition.get('path')
        self.identifiers = parameters(definition)
        self.operation = operation

    def __call__(self, parent, params, response):
        cls = self.context.resource_class(self.type)
        found = _search(self.path, response) if self.path else None
        identifiers = dict(built_identifiers(self.identifiers, parent, params, response))
        lists = [value for value in identifiers.values() if isinstance(value, list)]
        if lists:
            return [self._item(cls, parent, identifiers, found[i] if found else None) for i in range(len(lists[0]))]
        if all(value is not None for value in identifiers.values()):
            return self._item(cls, parent, identifiers, found)
        if self.operation is None:
            return None
        return self.context.empty_response(self.operation, self.path)

    @staticmethod
    def _item(cls, parent, identifiers, data):
        kwargs = {name: value.pop(0) if isinstance(value, list) else value for name, value in identifiers.items()}
        resource = cls(client=parent.meta.client, **kwargs)
        if data is not None:
            resource.meta.data = data
        return resource


def _search(path, value):
    import jmespath
    return jmespath.search(path, value)


def data_member(parent, path):
    """A member of the resource's data, loaded first if need be."""
    if parent.meta.data is None:
        if not hasattr(parent, 'load'):
            raise ResourceLoadException(f'{parent.__class__.__name__} has no load method!')
        parent.load()
    return _search(path, parent.meta.data)


def request_parameters(parent, request, params=None, index=None):
    """A request's parameters its definition fills (from the resource's identifiers and data, or constants); the
    caller's come on top. ``index``: the item's position in a batch request."""
    params = {} if params is None else params
    for param in parameters(request):
        if param.source == 'identifier':
            value = getattr(parent, xform_name(param.name))
        elif param.source == 'data':
            value = data_member(parent, param.path)
        elif param.source in ('string', 'integer', 'boolean'):
            value = param.value
        elif param.source == 'input':
            continue
        else:
            raise NotImplementedError(f'Unsupported source type: {param.source}')
        place(params, param.target, value, index)
    return params


def built_identifiers(sources, parent, params=None, response=None):
    """[(identifier, value)] of a resource to build, from where its definition says."""
    out = []
    for source in sources:
        if source.source == 'response':
            value = _search(source.path, response)
        elif source.source == 'requestParameter':
            value = _search(source.path, params)
        elif source.source == 'identifier':
            value = getattr(parent, xform_name(source.name))
        elif source.source == 'data':
            value = data_member(parent, source.path)
        elif source.source == 'input':
            continue
        else:
            raise NotImplementedError(f'Unsupported source type: {source.source}')
        out.append((xform_name(source.target), value))
    return out


_INDEX = re.compile(r'^(.*)\[(\*|\d*)\]$')


def place(params, target, value, index=None):
    """Sets ``value`` at ``target`` in ``params``: dotted members; ``Name[]`` appends to a list, ``Name[3]`` sets an
    element, ``Name[*]`` the batch item's (``index``; appended without one); the structures on the way are made."""
    parts = target.split('.')
    node = params
    for position, part in enumerate(parts):
        last = position == len(parts) - 1
        indexed = _INDEX.match(part)
        if indexed is None:
            if last:
                node[part] = value
            else:
                node = node.setdefault(part, {})
            continue
        part, selector = indexed.groups()
        if selector not in ('', '*'):
            index = int(selector)
        elif selector == '':
            index = None
        if not isinstance(node.get(part), list):
            node[part] = []
        items = node[part]
        at = len(items) if index is None else index
        while len(items) <= at:
            items.append({})
        if last:
            items[at] = value
        else:
            node = items[at]
