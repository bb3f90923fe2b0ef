# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.resources.collection: a resource's collection (bucket.objects, s3.buckets, ...) over the stand-in client."""


class ResourceCollection:
    """all()/filter()/limit()/page_size() give new collections; iteration pages lazily through the client's paginator
    where the operation has one (else one call); delete() is the batch action where the model has one (one
    DeleteObjects per page, as boto3 does).

    ``identifiers`` are the request parameters the parent fixes (filter arguments are merged over them, as boto3
    merges them), ``items`` builds a page's resources from (client, request, page), and ``batch_keys`` names one
    item in a DeleteObjects request (None: no batch delete)."""

    def __init__(self, parent, name, item_type, method, identifiers, items, batch_keys=None, params=None):
        self._parent = parent
        self._name = name
        self._item_type = item_type
        self._method = method
        self._identifiers = identifiers
        self._items = items
        self._batch_keys = batch_keys
        self._params = params

    def __repr__(self):
        # boto3 names a collection class after its service and resource (s3.Bucket.objectsCollection,
        # s3.bucketsCollectionManager), "Manager" for the one the resource hands out before any filter.
        kind = 'CollectionManager' if self._params is None else 'Collection'
        owner = self._parent.__class__.__name__
        owner = self._parent.meta.service_name if owner.endswith('.ServiceResource') else owner
        return f'{owner}.{self._name}{kind}({self._parent!r}, {self._item_type})'

    def _clone(self, **changes):
        params = dict(self._params or {})
        params.update(changes)
        return ResourceCollection(self._parent, self._name, self._item_type, self._method, self._identifiers,
                                  self._items, self._batch_keys, params)

    def all(self):
        return self._clone()

    def filter(self, **kwargs):
        return self._clone(**kwargs)

    def limit(self, count):
        return self._clone(limit=count)

    def page_size(self, count):
        return self._clone(page_size=count)

    def __iter__(self):
        limit = (self._params or {}).get('limit')
        count = 0
        for page in self.pages():
            for item in page:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return

    iterator = __iter__

    def pages(self):
        params = dict(self._params or {})
        limit = params.pop('limit', None)
        page_size = params.pop('page_size', None)
        request = dict(self._identifiers)
        request.update(params)
        client = self._parent.meta.client
        if client.can_paginate(self._method):
            pages = client.get_paginator(self._method).paginate(
                PaginationConfig={'MaxItems': limit, 'PageSize': page_size}, **request)
        else:
            pages = [getattr(client, self._method)(**request)]
        count = 0
        for page in pages:
            items = []
            for item in self._items(client, request, page):
                items.append(item)
                count += 1
                if limit is not None and count >= limit:
                    break
            yield items
            if limit is not None and count >= limit:
                break

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
