# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.resources.base: the base class and meta object of resources, for isinstance checks and .meta."""


class ResourceMeta:
    def __init__(self, service_name, identifiers=None, client=None, data=None, resource_model=None):
        self.service_name = service_name
        self.identifiers = identifiers or []
        self.client = client
        self.data = data
        self.resource_model = resource_model

    def __repr__(self):
        return f'ResourceMeta({self.service_name!r}, identifiers={self.identifiers!r})'

    def __eq__(self, other):
        if other.__class__.__name__ != self.__class__.__name__:
            return False
        return self.__dict__ == other.__dict__

    def copy(self):
        params = dict(self.__dict__)
        return ResourceMeta(**params)


class ServiceResource:
    """Resources compare and hash by class name and identifiers, and print as s3.Object(bucket_name=..., key=...)."""

    meta = None

    def __repr__(self):
        identifiers = ', '.join(f'{name}={getattr(self, name)!r}' for name in self.meta.identifiers)
        return f'{self.__class__.__name__}({identifiers})'

    def __eq__(self, other):
        if other.__class__.__name__ != self.__class__.__name__:
            return False
        return all(getattr(self, name) == getattr(other, name) for name in self.meta.identifiers)

    def __hash__(self):
        return hash((self.__class__.__name__,) + tuple(getattr(self, name) for name in self.meta.identifiers))
