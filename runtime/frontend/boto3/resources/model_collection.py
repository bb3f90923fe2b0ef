# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The collections of the resources made from resources-1.json (factory.py): ``sqs.queues``, ``ec2.instances``,
``vpc.subnets.filter(...)``, with boto3 1.26's collection and manager classes (all, filter, limit, page_size, pages,
iteration through the client's paginator where the operation has one, else one call) and the batch actions of the
collection's resource (``queue.receive_messages()`` results aside: ``ec2.instances.filter(...).terminate()``, one call
per page)."""

import copy

from boto3.resources.collection import PagedCollection
from boto3.resources.factory import _Call, _ResourceHandler, request_parameters
from botocore import xform_name


class ResourceCollection(PagedCollection):
    def __init__(self, manager_definition, parent, handler, **params):
        self._definition = manager_definition
        self._parent = parent
        self._handler = handler
        self._method = xform_name(manager_definition['request']['operation'])
        self._params = copy.deepcopy(params)

    def __repr__(self):
        return (f'{self.__class__.__name__}({self._parent!r}, '
                f"{self._parent.meta.service_name}.{self._definition['resource']['type']})")

    def _with(self, params):
        return self.__class__(self._definition, self._parent, self._handler, **params)

    def _request(self):
        return request_parameters(self._parent, self._definition['request'])

    def _items(self, params, page):
        return self._handler(self._parent, params, page)


class CollectionManager:
    _collection_class = ResourceCollection

    def __init__(self, parent):
        self._parent = parent

    def __repr__(self):
        return (f'{self.__class__.__name__}({self._parent!r}, '
                f"{self._parent.meta.service_name}.{self._definition['resource']['type']})")

    def iterator(self, **params):
        return self._collection_class(self._definition, self._parent, self._handler, **params)

    def all(self):
        return self.iterator()

    def filter(self, **kwargs):
        return self.iterator(**kwargs)

    def limit(self, count):
        return self.iterator(limit=count)

    def page_size(self, count):
        return self.iterator(page_size=count)

    def pages(self):
        return self.iterator().pages()


def collection_manager_class(context, resource_name, name, definition):
    """The manager class of one collection (``sqs.queuesCollectionManager``, ``ec2.Vpc.subnetsCollectionManager``) and
    its collection class, each with the batch actions of the collection's resource."""
    service = context.service_name
    class_name = f'{service}.{name}Collection' if resource_name == service \
        else f'{service}.{resource_name}.{name}Collection'
    handler = _ResourceHandler(context, definition['resource'], definition['request']['operation'])
    from boto3.resources.model import ResourceModel
    item_type = definition['resource']['type']
    item_model = ResourceModel(item_type, context.resource_definitions.get(item_type, {}),
                               context.resource_definitions)
    attrs = {xform_name(action_name): _batch_method(context, xform_name(action_name), action)
             for action_name, action in item_model.batch_actions()}
    collection_class = type(class_name, (ResourceCollection,), dict(attrs))
    attrs.update(_collection_class=collection_class, _definition=definition, _handler=handler)
    return type(class_name + 'Manager', (CollectionManager,), attrs)


def _batch_method(context, name, definition):
    """A batch action: one call per page of the collection, each item's parameters at its index."""
    call = _Call(context, definition)

    def batch(self, *args, **kwargs):
        client = None
        responses = []
        for page in self.pages():
            params = {}
            for index, resource in enumerate(page):
                client = client or resource.meta.client
                request_parameters(resource, call.request, params=params, index=index)
            if not params:
                break
            params.update(kwargs)
            responses.append(call.handler(self, params, getattr(client, call.method)(*args, **params)))
        return responses
    batch.__name__ = name
    return batch
