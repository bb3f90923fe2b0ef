# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.resource('s3') over the stand-in client: every resource, action, sub-resource, collection and waiter of
boto3 1.26's S3 resource model (resources-1.json), each a call of the client.

Loaded lazily (only when a handler asks for a resource). Attribute names, lazy loading (HeadObject for an Object,
ListBuckets for a Bucket, the Get call of a bucket configuration or an ACL), identifiers, repr and equality follow that
model; an action clears what a loadable resource has loaded, as boto3's do. bucket.objects pages with ListObjects as
boto3 does (carried as ListObjectsV2 on the channel, so ``owner`` is None: the channel does not ask for owners).
"""

from boto3.exceptions import ResourceLoadException
from boto3.resources.base import ResourceMeta, ServiceResource
from boto3.resources.collection import ResourceCollection
from botocore import xform_name
from botocore.exceptions import ClientError

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


def _fields(*names):
    """boto3 attribute name -> response field, for the members of a resource's shape."""
    return {xform_name(name): name for name in names}


# Members of the other resources' shapes (GetBucketAclOutput, MultipartUpload, Part, ObjectVersion, ...), as boto3
# 1.26 lists them for its attributes.
_ACL = ('Owner', 'Grants')
_UPLOAD_ATTRIBUTES = _fields('UploadId', 'Key', 'Initiated', 'StorageClass', 'Owner', 'Initiator', 'ChecksumAlgorithm')
_PART_ATTRIBUTES = _fields('LastModified', 'ETag', 'Size', 'ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumSHA1',
                           'ChecksumSHA256')
_VERSION_ATTRIBUTES = _fields('ETag', 'ChecksumAlgorithm', 'Size', 'StorageClass', 'Key', 'VersionId', 'IsLatest',
                              'LastModified', 'Owner')


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
    """A resource of the model. Subclasses with a load model define ``load``; the others have none (hasattr is False,
    as in boto3), so reading an attribute before data came with them raises ResourceLoadException."""

    _identifier_names = ()
    _attributes = {}
    _subresources = ()

    def __init__(self, client, *args, data=None, **kwargs):
        values = _identifiers(self._identifier_names, args, kwargs)
        for name, value in values.items():
            self.__dict__[name] = value
        self.meta = ResourceMeta('s3', identifiers=list(self._identifier_names), client=client, data=data)

    def __getattr__(self, name):
        field = self._attributes.get(name)
        if field is None or name.startswith('_'):
            raise AttributeError(f"'{self.__class__.__name__}' object has no attribute '{name}'")
        if self.meta.data is None:
            if not hasattr(self, 'load'):
                raise ResourceLoadException(f'{self.__class__.__name__} has no load method')
            self.load()
        return self.meta.data.get(field)

    def __dir__(self):
        # boto3's attributes are properties of the class: they show in dir().
        return sorted(set(super().__dir__()) | set(self._attributes))

    def get_available_subresources(self):
        return sorted(self._subresources)


def _request(resource, params):
    return {param: getattr(resource, identifier) for param, identifier in params.items()}


def _action(method, params, fixed=None, returns=None):
    """An action: the client call with the resource's identifiers (call arguments override them, as boto3 merges
    them), then the loaded data dropped when the resource can load it again; ``returns`` builds a resource from the
    request and response where the model says the action returns one."""
    def action(self, *args, **kwargs):
        request = _request(self, params)
        if fixed:
            request.update(fixed)
        request.update(kwargs)
        response = getattr(self.meta.client, method)(*args, **request)
        if hasattr(self, 'load'):
            self.meta.data = None
        return returns(self, request, response) if returns else response
    action.__name__ = xform_name(method)
    return action


def _loader(method, params):
    def load(self):
        self.meta.data = getattr(self.meta.client, method)(**_request(self, params))
    return load


def _waiter(name, params):
    def wait(self, **kwargs):
        request = _request(self, params)
        request.update(kwargs)
        self.meta.client.get_waiter(name).wait(**request)
    return wait


class _ObjectActions:
    """What Object and ObjectSummary share (boto3 generates both from one model)."""

    _subresources = ('Acl', 'Bucket', 'MultipartUpload', 'Version')
    _object_params = {'Bucket': 'bucket_name', 'Key': 'key'}
    get = _action('get_object', _object_params)
    put = _action('put_object', _object_params)
    delete = _action('delete_object', _object_params)
    copy_from = _action('copy_object', _object_params)
    restore_object = _action('restore_object', _object_params)
    initiate_multipart_upload = _action(
        'create_multipart_upload', _object_params,
        returns=lambda self, request, response: MultipartUpload(
            self.meta.client, self.bucket_name, self.key, response['UploadId']))
    wait_until_exists = _waiter('object_exists', _object_params)
    wait_until_not_exists = _waiter('object_not_exists', _object_params)

    def Acl(self):
        return ObjectAcl(self.meta.client, self.bucket_name, self.key)

    def Bucket(self):
        return Bucket(self.meta.client, self.bucket_name)

    def MultipartUpload(self, id):
        return MultipartUpload(self.meta.client, self.bucket_name, self.key, id)

    def Version(self, id):
        return ObjectVersion(self.meta.client, self.bucket_name, self.key, id)


class Object(_ObjectActions, _Resource):
    _identifier_names = ('bucket_name', 'key')
    _attributes = _OBJECT_ATTRIBUTES
    load = reload = _loader('head_object', _ObjectActions._object_params)

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


class ObjectAcl(_Resource):
    _identifier_names = ('bucket_name', 'object_key')
    _attributes = _fields(*_ACL, 'RequestCharged')
    _subresources = ('Object',)
    _params = {'Bucket': 'bucket_name', 'Key': 'object_key'}
    load = reload = _loader('get_object_acl', _params)
    put = _action('put_object_acl', _params)

    def Object(self):
        return Object(self.meta.client, self.bucket_name, self.object_key)


class ObjectVersion(_Resource):
    _identifier_names = ('bucket_name', 'object_key', 'id')
    _attributes = _VERSION_ATTRIBUTES
    _subresources = ('Object',)
    _params = {'Bucket': 'bucket_name', 'Key': 'object_key', 'VersionId': 'id'}
    get = _action('get_object', _params)
    head = _action('head_object', _params)
    delete = _action('delete_object', _params)

    def Object(self):
        return Object(self.meta.client, self.bucket_name, self.object_key)


class MultipartUpload(_Resource):
    _identifier_names = ('bucket_name', 'object_key', 'id')
    _attributes = _UPLOAD_ATTRIBUTES
    _subresources = ('Object', 'Part')
    _params = {'Bucket': 'bucket_name', 'Key': 'object_key', 'UploadId': 'id'}
    abort = _action('abort_multipart_upload', _params)
    complete = _action('complete_multipart_upload', _params,
                       returns=lambda self, request, response: self.Object())

    def Object(self):
        return Object(self.meta.client, self.bucket_name, self.object_key)

    def Part(self, part_number):
        return MultipartUploadPart(self.meta.client, self.bucket_name, self.object_key, self.id, part_number)

    @property
    def parts(self):
        return ResourceCollection(self, 'parts', 's3.MultipartUploadPart', 'list_parts', _request(self, self._params),
                                  _part_items)


class MultipartUploadPart(_Resource):
    _identifier_names = ('bucket_name', 'object_key', 'multipart_upload_id', 'part_number')
    _attributes = _PART_ATTRIBUTES
    _subresources = ('MultipartUpload',)
    _params = {'Bucket': 'bucket_name', 'Key': 'object_key', 'UploadId': 'multipart_upload_id',
               'PartNumber': 'part_number'}
    upload = _action('upload_part', _params)
    copy_from = _action('upload_part_copy', _params)

    def MultipartUpload(self):
        return MultipartUpload(self.meta.client, self.bucket_name, self.object_key, self.multipart_upload_id)


def _bucket_configuration(name, get, fields, **actions):
    """One of the Bucket* resources: identified by its bucket, loaded by its Get call, with its Put/Delete actions."""
    params = {'Bucket': 'bucket_name'}
    namespace = {
        '_identifier_names': ('bucket_name',),
        '_attributes': _fields(*fields),
        '_subresources': ('Bucket',),
        'load': _loader(get, params),
        'reload': _loader(get, params),
        'Bucket': lambda self: Bucket(self.meta.client, self.bucket_name),
    }
    for action, (method, fixed) in actions.items():
        namespace[action] = _action(method, params, fixed)
    return type('s3.' + name, (_Resource,), namespace)


BucketAcl = _bucket_configuration('BucketAcl', 'get_bucket_acl', _ACL, put=('put_bucket_acl', None))
BucketCors = _bucket_configuration('BucketCors', 'get_bucket_cors', ('CORSRules',),
                                   delete=('delete_bucket_cors', None), put=('put_bucket_cors', None))
BucketLifecycle = _bucket_configuration('BucketLifecycle', 'get_bucket_lifecycle', ('Rules',),
                                        delete=('delete_bucket_lifecycle', None), put=('put_bucket_lifecycle', None))
BucketLifecycleConfiguration = _bucket_configuration(
    'BucketLifecycleConfiguration', 'get_bucket_lifecycle_configuration', ('Rules',),
    delete=('delete_bucket_lifecycle', None), put=('put_bucket_lifecycle_configuration', None))
BucketLogging = _bucket_configuration('BucketLogging', 'get_bucket_logging', ('LoggingEnabled',),
                                      put=('put_bucket_logging', None))
BucketNotification = _bucket_configuration(
    'BucketNotification', 'get_bucket_notification_configuration',
    ('TopicConfigurations', 'QueueConfigurations', 'LambdaFunctionConfigurations', 'EventBridgeConfiguration'),
    put=('put_bucket_notification_configuration', None))
BucketPolicy = _bucket_configuration('BucketPolicy', 'get_bucket_policy', ('Policy',),
                                     delete=('delete_bucket_policy', None), put=('put_bucket_policy', None))
BucketRequestPayment = _bucket_configuration('BucketRequestPayment', 'get_bucket_request_payment', ('Payer',),
                                             put=('put_bucket_request_payment', None))
BucketTagging = _bucket_configuration('BucketTagging', 'get_bucket_tagging', ('TagSet',),
                                      delete=('delete_bucket_tagging', None), put=('put_bucket_tagging', None))
BucketVersioning = _bucket_configuration(
    'BucketVersioning', 'get_bucket_versioning', ('Status', 'MFADelete'),
    enable=('put_bucket_versioning', {'VersioningConfiguration': {'Status': 'Enabled'}}),
    put=('put_bucket_versioning', None),
    suspend=('put_bucket_versioning', {'VersioningConfiguration': {'Status': 'Suspended'}}))
BucketWebsite = _bucket_configuration(
    'BucketWebsite', 'get_bucket_website', ('RedirectAllRequestsTo', 'IndexDocument', 'ErrorDocument', 'RoutingRules'),
    delete=('delete_bucket_website', None), put=('put_bucket_website', None))

# Bucket's sub-resources: method name -> resource class.
_BUCKET_CONFIGURATIONS = {
    'Acl': BucketAcl, 'Cors': BucketCors, 'Lifecycle': BucketLifecycle,
    'LifecycleConfiguration': BucketLifecycleConfiguration, 'Logging': BucketLogging,
    'Notification': BucketNotification, 'Policy': BucketPolicy, 'RequestPayment': BucketRequestPayment,
    'Tagging': BucketTagging, 'Versioning': BucketVersioning, 'Website': BucketWebsite,
}


class Bucket(_Resource):
    _identifier_names = ('name',)
    _attributes = {'creation_date': 'CreationDate'}
    _subresources = tuple(sorted((*_BUCKET_CONFIGURATIONS, 'Object')))
    _params = {'Bucket': 'name'}
    create = _action('create_bucket', _params)
    delete = _action('delete_bucket', _params)
    delete_objects = _action('delete_objects', _params)
    put_object = _action('put_object', _params,
                         returns=lambda self, request, response: Object(self.meta.client, self.name, request['Key']))
    wait_until_exists = _waiter('bucket_exists', _params)
    wait_until_not_exists = _waiter('bucket_not_exists', _params)

    def load(self):
        # boto3's Bucket.load: the bucket's entry of ListBuckets (no creation date when listing is denied).
        self.meta.data = {}
        try:
            response = self.meta.client.list_buckets()
        except ClientError as e:
            if e.response.get('Error', {}).get('Code') != 'AccessDenied':
                raise
            return
        for entry in response['Buckets']:
            if entry['Name'] == self.name:
                self.meta.data = entry
                break

    @property
    def objects(self):
        return ResourceCollection(self, 'objects', 's3.ObjectSummary', 'list_objects', {'Bucket': self.name},
                                  _object_items, _object_keys)

    @property
    def object_versions(self):
        return ResourceCollection(self, 'object_versions', 's3.ObjectVersion', 'list_object_versions',
                                  {'Bucket': self.name}, _version_items, _version_keys)

    @property
    def multipart_uploads(self):
        return ResourceCollection(self, 'multipart_uploads', 's3.MultipartUpload', 'list_multipart_uploads',
                                  {'Bucket': self.name}, _upload_items)

    def Object(self, key):
        return Object(self.meta.client, self.name, key)

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


def _object_items(client, request, page):
    return [ObjectSummary(client, request['Bucket'], entry['Key'], data=entry) for entry in page.get('Contents', [])]


def _version_items(client, request, page):
    entries = page.get('Versions', []) + page.get('DeleteMarkers', [])
    return [ObjectVersion(client, request['Bucket'], entry['Key'], entry['VersionId'], data=entry)
            for entry in entries]


def _upload_items(client, request, page):
    return [MultipartUpload(client, request['Bucket'], entry['Key'], entry['UploadId'], data=entry)
            for entry in page.get('Uploads', [])]


def _part_items(client, request, page):
    return [MultipartUploadPart(client, request['Bucket'], request['Key'], request['UploadId'], entry['PartNumber'],
                                data=entry) for entry in page.get('Parts', [])]


def _bucket_items(client, request, page):
    return [Bucket(client, entry['Name'], data=entry) for entry in page.get('Buckets', [])]


def _object_keys(item):
    return {'Key': item.key}


def _version_keys(item):
    return {'Key': item.object_key, 'VersionId': item.id}


# The service resource's constructors, by name.
_RESOURCES = {
    'Bucket': Bucket, 'MultipartUpload': MultipartUpload, 'MultipartUploadPart': MultipartUploadPart,
    'Object': Object, 'ObjectAcl': ObjectAcl, 'ObjectSummary': ObjectSummary, 'ObjectVersion': ObjectVersion,
    **{'Bucket' + name: cls for name, cls in _BUCKET_CONFIGURATIONS.items()},
}


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

    def create_bucket(self, *args, **kwargs):
        self.meta.client.create_bucket(*args, **kwargs)
        return Bucket(self.meta.client, kwargs['Bucket'])

    @property
    def buckets(self):
        return ResourceCollection(self, 'buckets', 's3.Bucket', 'list_buckets', {}, _bucket_items)

    def get_available_subresources(self):
        return sorted(_RESOURCES)


def _bucket_subresource(cls):
    return lambda self: cls(self.meta.client, self.name)


def _constructor(cls):
    return lambda self, *args, **kwargs: cls(self.meta.client, *args, **kwargs)


for _name, _cls in _BUCKET_CONFIGURATIONS.items():
    setattr(Bucket, _name, _bucket_subresource(_cls))
for _name, _cls in _RESOURCES.items():
    setattr(S3ServiceResource, _name, _constructor(_cls))
for _cls in (Object, ObjectSummary, ObjectAcl, ObjectVersion, MultipartUpload, MultipartUploadPart, Bucket):
    _cls.__name__ = _cls.__qualname__ = 's3.' + _cls.__name__
S3ServiceResource.__name__ = S3ServiceResource.__qualname__ = 's3.ServiceResource'
