# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.resources.collection: resource collections (bucket.objects, s3.buckets, sqs.queues, ...) over the stand-in's
clients. PagedCollection is what each does with its pages, as boto3 1.26's ResourceCollection does it; S3's hand-written
resource uses ResourceCollection below, the resources made from resources-1.json model_collection.py's."""

import copy


class PagedCollection:
    """all()/filter()/limit()/page_size() give new collections (filter arguments merged as botocore's merge_dicts
    merges them, lists appended); iteration pages lazily through the client's paginator where the operation has one
    (else one call), stopping at the limit. A subclass names its operation (_method), the parameters its parent fixes
    (_request), the items of a page (_items) and how it is copied with other parameters (_with)."""

    _method = None

    def __iter__(self):
        limit = self._params.get('limit')
        count = 0
        for page in self.pages():
            for item in page:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return

    def _clone(self, **params):
        return self._with(merged(self._params, params))

    def all(self):
        return self._clone()

    def filter(self, **kwargs):
        return self._clone(**kwargs)

    def limit(self, count):
        return self._clone(limit=count)

    def page_size(self, count):
        return self._clone(page_size=count)

    def pages(self):
        client = self._parent.meta.client
        given = dict(self._params)
        limit = given.pop('limit', None)
        page_size = given.pop('page_size', None)
        params = merged(self._request(), given)
        if client.can_paginate(self._method):
            pages = client.get_paginator(self._method).paginate(
                PaginationConfig={'MaxItems': limit, 'PageSize': page_size}, **params)
        else:
            pages = [getattr(client, self._method)(**params)]
        count = 0
        for page in pages:
            items = []
            for item in self._items(params, page):
                items.append(item)
                count += 1
                if limit is not None and count >= limit:
                    break
            yield items
            if limit is not None and count >= limit:
                break


def merged(base, extra):
    """botocore's merge_dicts(append_lists=True) on a deep copy of ``base``."""
    out = copy.deepcopy(base)
    _merge_into(out, extra)
    return out


def _merge_into(base, extra):
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _merge_into(base[key], value)
        elif isinstance(value, list) and isinstance(base.get(key), list):
            base[key].extend(value)
        else:
            base[key] = value


class ResourceCollection(PagedCollection):
    """A collection of S3's hand-written resource. ``identifiers`` are the request parameters the parent fixes,
    ``items`` builds a page's resources from (client, request, page), and ``batch_keys`` names one item in a
    DeleteObjects request (None: no batch delete); delete() is that batch action (one DeleteObjects per page, as boto3
    does)."""

    def __init__(self, parent, name, item_type, method, identifiers, items, batch_keys=None, params=None):
        self._parent = parent
        self._name = name
        self._item_type = item_type
        self._method = method
        self._identifiers = identifiers
        self._item_builder = items
        self._batch_keys = batch_keys
        self._manager = params is None
        self._params = params or {}

    def __repr__(self):
        # boto3 names a collection class after its service and resource (s3.Bucket.objectsCollection,
        # s3.bucketsCollectionManager), "Manager" for the one the resource hands out before any filter.
        kind = 'CollectionManager' if self._manager else 'Collection'
        owner = self._parent.__class__.__name__
        owner = self._parent.meta.service_name if owner.endswith('.ServiceResource') else owner
        return f'{owner}.{self._name}{kind}({self._parent!r}, {self._item_type})'

    # One class is the manager and the collection here (boto3's manager has iterator()).
    iterator = PagedCollection.__iter__

    def _with(self, params):
        return ResourceCollection(self._parent, self._name, self._item_type, self._method, self._identifiers,
                                  self._item_builder, self._batch_keys, params)

    def _request(self):
        return dict(self._identifiers)

    def _items(self, params, page):
        return self._item_builder(self._parent.meta.client, params, page)

    def __getattr__(self, name):
        if name == 'delete' and self._batch_keys is not None:
            return self._delete
        raise AttributeError(f"'{self._parent.__class__.__name__}.{self._name}Collection' object has no attribute "
                             f"'{name}'")

    def _delete(self, **kwargs):
        client = self._parent.meta.client
        responses = []
        for page in self.pages():
            if not page:
                break
            request = {'Bucket': page[0].bucket_name, 'Delete': {'Objects': [self._batch_keys(item) for item in page]}}
            request.update(kwargs)
            responses.append(client.delete_objects(**request))
        return responses
