# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.resource('s3') over the stand-in client: Bucket, Object, ObjectSummary and bucket.objects.

Loaded lazily (only when a handler asks for a resource). Attribute names, lazy
loading through HeadObject, identifiers, repr and equality follow boto3's
resource model for S3 (resources-1.json). bucket.objects pages with
ListObjects as boto3 does (carried as ListObjectsV2 on the channel, so
``owner`` is None: the channel does not ask for owners).
"""

from boto3.resources.base import ResourceMeta, ServiceResource
from botocore.exceptions import NexusUnsupportedError

# HeadObjectOutput members (boto3 attribute name -> response field).
_OBJECT_ATTRIBUTES = {
    'delete_marker': 'DeleteMarker', 'accept_ranges': 'AcceptRanges', 'expiration': 'Expiration',
    'restore': 'Restore', 'archive_status': 'ArchiveStatus', 'last_modified': 'LastModified',
    'content_length': 'ContentLength', 'checksum_crc32': 'ChecksumCRC32', 'checksum_crc32_c': 'ChecksumCRC32C',
    'checksum_sha1': 'ChecksumSHA1', 'checksum_sha256': 'ChecksumSHA256', 'e_tag': 'ETag',
    'missing_meta': 'MissingMeta', 'version_id': 'VersionId', 'cache_control': 'CacheControl',
    'content_disposition': 'ContentDisposition', 'content_encoding': 'ContentEncoding',
    'content_language': 'ContentLanguage', 'content_type': 'ContentType', 'expires': 'Expires',
    'website_redirect_location': 'WebsiteRedirectLocation', 'server_side_encryption': 'ServerSideEncryption',
    'metadata': 'Metadata', 'sse_customer_algorithm': 'SSECustomerAlgorithm',
    'sse_customer_key_md5': 'SSECustomerKeyMD5', 'ssekms_key_id': 'SSEKMSKeyId',
    'bucket_key_enabled': 'BucketKeyEnabled', 'storage_class': 'StorageClass', 'request_charged': 'RequestCharged',
    'replication_status': 'ReplicationStatus', 'parts_count': 'PartsCount', 'object_lock_mode': 'ObjectLockMode',
    'object_lock_retain_until_date': 'ObjectLockRetainUntilDate',
    'object_lock_legal_hold_status': 'ObjectLockLegalHoldStatus',
}
# Members of the listing's Object shape.
_SUMMARY_ATTRIBUTES = {
    'last_modified': 'LastModified', 'e_tag': 'ETag', 'checksum_algorithm': 'ChecksumAlgorithm', 'size': 'Size',
    'storage_class': 'StorageClass', 'owner': 'Owner',
}
def _identifiers(names, args, kwargs):
    values = dict(zip(names, args))
    for name in names:
        if name in kwargs:
            values[name] = kwargs.pop(name)
    if len(args) > len(names):
        raise ValueError(f'Unknown keyword argument: {args[len(names)]}')
    for name in kwargs:
        raise ValueError(f'Unknown keyword argument: {name}')
    for name in names:
        if values.get(name) is None:
            raise ValueError(f'Required parameter {name} not set')
    return values


class _Resource(ServiceResource):
    _identifier_names = ()
    _attributes = {}

    def __init__(self, client, *args, data=None, **kwargs):
        values = _identifiers(self._identifier_names, args, kwargs)
        for name, value in values.items():
            self.__dict__[name] = value
        self.meta = ResourceMeta('s3', identifiers=list(self._identifier_names), client=client, data=data)

    def __getattr__(self, name):
        field = self._attributes.get(name)
        if field is None:
            raise AttributeError(f"'{self.__class__.__name__}' object has no attribute '{name}'")
        if self.meta.data is None:
            self.load()
        return self.meta.data.get(field)

    def load(self):
        raise NexusUnsupportedError(what=f'{self.__class__.__name__}.load')

    def reload(self):
        self.load()

    def get_available_subresources(self):
        return sorted(self._subresources)

    _subresources = ()

    def _unsupported(self, what):
        raise NexusUnsupportedError(what=f'{self.__class__.__name__}.{what}')


class _ObjectActions:
    """The object actions Object and ObjectSummary share (boto3 generates both from one model)."""

    def get(self, **kwargs):
        return self.meta.client.get_object(Bucket=self.bucket_name, Key=self.key, **kwargs)

    def put(self, **kwargs):
        return self.meta.client.put_object(Bucket=self.bucket_name, Key=self.key, **kwargs)

    def delete(self, **kwargs):
        return self.meta.client.delete_object(Bucket=self.bucket_name, Key=self.key, **kwargs)

    def copy_from(self, **kwargs):
        return self.meta.client.copy_object(Bucket=self.bucket_name, Key=self.key, **kwargs)


class Object(_ObjectActions, _Resource):
    _identifier_names = ('bucket_name', 'key')
    _attributes = _OBJECT_ATTRIBUTES
    _subresources = ('Acl', 'Bucket', 'MultipartUpload', 'Version')

    def load(self):
        self.meta.data = self.meta.client.head_object(Bucket=self.bucket_name, Key=self.key)


    def Bucket(self):
        return Bucket(self.meta.client, self.bucket_name)

    def upload_file(self, Filename, ExtraArgs=None, Callback=None, Config=None):
        return self.meta.client.upload_file(Filename, self.bucket_name, self.key, ExtraArgs, Callback, Config)

    def download_file(self, Filename, ExtraArgs=None, Callback=None, Config=None):
        return self.meta.client.download_file(self.bucket_name, self.key, Filename, ExtraArgs, Callback, Config)

    def upload_fileobj(self, Fileobj, ExtraArgs=None, Callback=None, Config=None):
        return self.meta.client.upload_fileobj(Fileobj, self.bucket_name, self.key, ExtraArgs, Callback, Config)

    def download_fileobj(self, Fileobj, ExtraArgs=None, Callback=None, Config=None):
        return self.meta.client.download_fileobj(self.bucket_name, self.key, Fileobj, ExtraArgs, Callback, Config)

    def copy(self, CopySource, ExtraArgs=None, Callback=None, SourceClient=None, Config=None):
        return self.meta.client.copy(CopySource, self.bucket_name, self.key, ExtraArgs, Callback, SourceClient,
                                     Config)

    def wait_until_exists(self, **kwargs):
        self.meta.client.get_waiter('object_exists').wait(Bucket=self.bucket_name, Key=self.key, **kwargs)

    def wait_until_not_exists(self, **kwargs):
        self.meta.client.get_waiter('object_not_exists').wait(Bucket=self.bucket_name, Key=self.key, **kwargs)


class ObjectSummary(_ObjectActions, _Resource):
    _identifier_names = ('bucket_name', 'key')
    _attributes = _SUMMARY_ATTRIBUTES
    _subresources = ('Acl', 'Bucket', 'MultipartUpload', 'Object', 'Version')

    def load(self):
        # boto3's ObjectSummary.load: HeadObject, with ContentLength renamed to Size.
        response = self.meta.client.head_object(Bucket=self.bucket_name, Key=self.key)
        if 'ContentLength' in response:
            response['Size'] = response.pop('ContentLength')
        self.meta.data = response

    def Object(self):
        return Object(self.meta.client, self.bucket_name, self.key)

    def Bucket(self):
        return Bucket(self.meta.client, self.bucket_name)


class Bucket(_Resource):
    _identifier_names = ('name',)
    _attributes = {'creation_date': 'CreationDate'}
    _subresources = ('Acl', 'Cors', 'Lifecycle', 'LifecycleConfiguration', 'Logging', 'Notification', 'Object',
                     'Policy', 'RequestPayment', 'Tagging', 'Versioning', 'Website')

    def load(self):
        self._unsupported('load (it lists all buckets)')

    @property
    def objects(self):
        return ObjectsCollectionManager(self)

    def Object(self, key):
        return Object(self.meta.client, self.name, key)

    def put_object(self, **kwargs):
        self.meta.client.put_object(Bucket=self.name, **kwargs)
        return Object(self.meta.client, self.name, kwargs['Key'])

    def delete_objects(self, **kwargs):
        return self.meta.client.delete_objects(Bucket=self.name, **kwargs)

    def upload_file(self, Filename, Key, ExtraArgs=None, Callback=None, Config=None):
        return self.meta.client.upload_file(Filename, self.name, Key, ExtraArgs, Callback, Config)

    def download_file(self, Key, Filename, ExtraArgs=None, Callback=None, Config=None):
        return self.meta.client.download_file(self.name, Key, Filename, ExtraArgs, Callback, Config)

    def upload_fileobj(self, Fileobj, Key, ExtraArgs=None, Callback=None, Config=None):
        return self.meta.client.upload_fileobj(Fileobj, self.name, Key, ExtraArgs, Callback, Config)

    def download_fileobj(self, Key, Fileobj, ExtraArgs=None, Callback=None, Config=None):
        return self.meta.client.download_fileobj(self.name, Key, Fileobj, ExtraArgs, Callback, Config)

    def copy(self, CopySource, Key, ExtraArgs=None, Callback=None, SourceClient=None, Config=None):
        return self.meta.client.copy(CopySource, self.name, Key, ExtraArgs, Callback, SourceClient, Config)

    def create(self, **kwargs):
        self._unsupported('create')

    def delete(self, **kwargs):
        self._unsupported('delete')


class ObjectsCollection:
    """bucket.objects.all()/filter(): ObjectSummary items, paged lazily."""

    def __init__(self, bucket, params):
        self._bucket = bucket
        self._params = params

    def __repr__(self):
        return f'{self._bucket.__class__.__name__}.objectsCollection({self._bucket!r}, s3.ObjectSummary)'

    def _clone(self, **changes):
        params = dict(self._params)
        params.update(changes)
        return ObjectsCollection(self._bucket, params)

    def all(self):
        return self._clone()

    def filter(self, **kwargs):
        return self._clone(**kwargs)

    def limit(self, count):
        return self._clone(limit=count)

    def page_size(self, count):
        return self._clone(page_size=count)

    def __iter__(self):
        limit = self._params.get('limit')
        count = 0
        for page in self.pages():
            for item in page:
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return

    iterator = __iter__

    def pages(self):
        params = dict(self._params)
        limit = params.pop('limit', None)
        page_size = params.pop('page_size', None)
        bucket = params.pop('Bucket', self._bucket.name)
        client = self._bucket.meta.client
        pages = client.get_paginator('list_objects').paginate(
            Bucket=bucket, PaginationConfig={'MaxItems': limit, 'PageSize': page_size}, **params)
        count = 0
        for page in pages:
            items = []
            for entry in page.get('Contents', []):
                items.append(ObjectSummary(client, bucket, entry['Key'], data=entry))
                count += 1
                if limit is not None and count >= limit:
                    break
            yield items
            if limit is not None and count >= limit:
                break

    def delete(self, **kwargs):
        """Batch action: one DeleteObjects per page, as boto3 does; returns the responses."""
        client = self._bucket.meta.client
        responses = []
        for page in self.pages():
            if page:
                keys = [{'Key': item.key} for item in page]
                responses.append(client.delete_objects(Bucket=self._bucket.name, Delete={'Objects': keys}, **kwargs))
        return responses


class ObjectsCollectionManager(ObjectsCollection):
    def __init__(self, bucket):
        super().__init__(bucket, {})

    def __repr__(self):
        return f'{self._bucket.__class__.__name__}.objectsCollectionManager({self._bucket!r}, s3.ObjectSummary)'


class S3ServiceResource(ServiceResource):
    """boto3.resource('s3')."""

    def __init__(self, client):
        self.meta = ResourceMeta('s3', client=client)

    def __repr__(self):
        return 's3.ServiceResource()'

    def __eq__(self, other):
        return isinstance(other, S3ServiceResource) and other.meta.client is self.meta.client

    def __hash__(self):
        return id(self.meta.client)

    def Bucket(self, *args, **kwargs):
        return Bucket(self.meta.client, *args, **kwargs)

    def Object(self, *args, **kwargs):
        return Object(self.meta.client, *args, **kwargs)

    def ObjectSummary(self, *args, **kwargs):
        return ObjectSummary(self.meta.client, *args, **kwargs)

    def get_available_subresources(self):
        return ['Bucket', 'Object', 'ObjectSummary']

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        raise NexusUnsupportedError(what=f's3 resource attribute {name}')


for _cls in (Object, ObjectSummary, Bucket):
    _cls.__name__ = _cls.__qualname__ = 's3.' + _cls.__name__
S3ServiceResource.__name__ = S3ServiceResource.__qualname__ = 's3.ServiceResource'
