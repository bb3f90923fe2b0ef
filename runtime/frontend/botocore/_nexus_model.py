# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The slice of the S3 API model (botocore 1.29.27, s3 2006-03-01) that the stand-in validates.

Member order matters: botocore lists valid names in model order in its
"Unknown parameter" message. Type codes: s string, i integer/long, b boolean,
t timestamp, m map of string to string, B blob, D the DeleteObjects "Delete" structure,
T the PutObjectTagging "Tagging" structure, C the CreateBucket "CreateBucketConfiguration" structure,
U the CompleteMultipartUpload "MultipartUpload" structure.
"""

_SHAPES = {
    'GetObject': (
        ('Bucket', 'Key'),
        'Bucket:s IfMatch:s IfModifiedSince:t IfNoneMatch:s IfUnmodifiedSince:t Key:s Range:s '
        'ResponseCacheControl:s ResponseContentDisposition:s ResponseContentEncoding:s '
        'ResponseContentLanguage:s ResponseContentType:s ResponseExpires:t VersionId:s '
        'SSECustomerAlgorithm:s SSECustomerKey:s SSECustomerKeyMD5:s RequestPayer:s PartNumber:i '
        'ExpectedBucketOwner:s ChecksumMode:s'),
    'PutObject': (
        ('Bucket', 'Key'),
        'ACL:s Body:B Bucket:s CacheControl:s ContentDisposition:s ContentEncoding:s ContentLanguage:s '
        'ContentLength:i ContentMD5:s ContentType:s ChecksumAlgorithm:s ChecksumCRC32:s ChecksumCRC32C:s '
        'ChecksumSHA1:s ChecksumSHA256:s Expires:t GrantFullControl:s GrantRead:s GrantReadACP:s '
        'GrantWriteACP:s Key:s Metadata:m ServerSideEncryption:s StorageClass:s WebsiteRedirectLocation:s '
        'SSECustomerAlgorithm:s SSECustomerKey:s SSECustomerKeyMD5:s SSEKMSKeyId:s SSEKMSEncryptionContext:s '
        'BucketKeyEnabled:b RequestPayer:s Tagging:s ObjectLockMode:s ObjectLockRetainUntilDate:t '
        'ObjectLockLegalHoldStatus:s ExpectedBucketOwner:s'),
    'HeadObject': (
        ('Bucket', 'Key'),
        'Bucket:s IfMatch:s IfModifiedSince:t IfNoneMatch:s IfUnmodifiedSince:t Key:s Range:s VersionId:s '
        'SSECustomerAlgorithm:s SSECustomerKey:s SSECustomerKeyMD5:s RequestPayer:s PartNumber:i '
        'ExpectedBucketOwner:s ChecksumMode:s'),
    'DeleteObject': (
        ('Bucket', 'Key'),
        'Bucket:s Key:s MFA:s VersionId:s RequestPayer:s BypassGovernanceRetention:b ExpectedBucketOwner:s'),
    'DeleteObjects': (
        ('Bucket', 'Delete'),
        'Bucket:s Delete:D MFA:s RequestPayer:s BypassGovernanceRetention:b ExpectedBucketOwner:s '
        'ChecksumAlgorithm:s'),
    'ListObjectsV2': (
        ('Bucket',),
        'Bucket:s Delimiter:s EncodingType:s MaxKeys:i Prefix:s ContinuationToken:s FetchOwner:b '
        'StartAfter:s RequestPayer:s ExpectedBucketOwner:s'),
    'ListObjects': (
        ('Bucket',),
        'Bucket:s Delimiter:s EncodingType:s Marker:s MaxKeys:i Prefix:s RequestPayer:s ExpectedBucketOwner:s'),
    'CopyObject': (
        ('Bucket', 'CopySource', 'Key'),
        'ACL:s Bucket:s CacheControl:s ChecksumAlgorithm:s ContentDisposition:s ContentEncoding:s '
        'ContentLanguage:s ContentType:s CopySource:s CopySourceIfMatch:s CopySourceIfModifiedSince:t '
        'CopySourceIfNoneMatch:s CopySourceIfUnmodifiedSince:t Expires:t GrantFullControl:s GrantRead:s '
        'GrantReadACP:s GrantWriteACP:s Key:s Metadata:m MetadataDirective:s TaggingDirective:s '
        'ServerSideEncryption:s StorageClass:s WebsiteRedirectLocation:s SSECustomerAlgorithm:s '
        'SSECustomerKey:s SSECustomerKeyMD5:s SSEKMSKeyId:s SSEKMSEncryptionContext:s BucketKeyEnabled:b '
        'CopySourceSSECustomerAlgorithm:s CopySourceSSECustomerKey:s CopySourceSSECustomerKeyMD5:s '
        'RequestPayer:s Tagging:s ObjectLockMode:s ObjectLockRetainUntilDate:t ObjectLockLegalHoldStatus:s '
        'ExpectedBucketOwner:s ExpectedSourceBucketOwner:s'),
    'HeadBucket': (('Bucket',), 'Bucket:s ExpectedBucketOwner:s'),
    'CreateBucket': (
        ('Bucket',),
        'ACL:s Bucket:s CreateBucketConfiguration:C GrantFullControl:s GrantRead:s GrantReadACP:s GrantWrite:s '
        'GrantWriteACP:s ObjectLockEnabledForBucket:b ObjectOwnership:s'),
    'ListBuckets': ((), ''),
    'GetObjectTagging': (
        ('Bucket', 'Key'),
        'Bucket:s Key:s VersionId:s ExpectedBucketOwner:s RequestPayer:s'),
    'PutObjectTagging': (
        ('Bucket', 'Key', 'Tagging'),
        'Bucket:s Key:s VersionId:s ContentMD5:s ChecksumAlgorithm:s Tagging:T ExpectedBucketOwner:s RequestPayer:s'),
    'DeleteObjectTagging': (
        ('Bucket', 'Key'),
        'Bucket:s Key:s VersionId:s ExpectedBucketOwner:s'),
    'CreateMultipartUpload': (
        ('Bucket', 'Key'),
        'ACL:s Bucket:s CacheControl:s ContentDisposition:s ContentEncoding:s ContentLanguage:s ContentType:s '
        'Expires:t GrantFullControl:s GrantRead:s GrantReadACP:s GrantWriteACP:s Key:s Metadata:m '
        'ServerSideEncryption:s StorageClass:s WebsiteRedirectLocation:s SSECustomerAlgorithm:s SSECustomerKey:s '
        'SSECustomerKeyMD5:s SSEKMSKeyId:s SSEKMSEncryptionContext:s BucketKeyEnabled:b RequestPayer:s Tagging:s '
        'ObjectLockMode:s ObjectLockRetainUntilDate:t ObjectLockLegalHoldStatus:s ExpectedBucketOwner:s '
        'ChecksumAlgorithm:s'),
    'UploadPart': (
        ('Bucket', 'Key', 'PartNumber', 'UploadId'),
        'Body:B Bucket:s ContentLength:i ContentMD5:s ChecksumAlgorithm:s ChecksumCRC32:s ChecksumCRC32C:s '
        'ChecksumSHA1:s ChecksumSHA256:s Key:s PartNumber:i UploadId:s SSECustomerAlgorithm:s SSECustomerKey:s '
        'SSECustomerKeyMD5:s RequestPayer:s ExpectedBucketOwner:s'),
    'CompleteMultipartUpload': (
        ('Bucket', 'Key', 'UploadId'),
        'Bucket:s Key:s MultipartUpload:U UploadId:s ChecksumCRC32:s ChecksumCRC32C:s ChecksumSHA1:s '
        'ChecksumSHA256:s RequestPayer:s ExpectedBucketOwner:s SSECustomerAlgorithm:s SSECustomerKey:s '
        'SSECustomerKeyMD5:s'),
    'AbortMultipartUpload': (
        ('Bucket', 'Key', 'UploadId'),
        'Bucket:s Key:s UploadId:s RequestPayer:s ExpectedBucketOwner:s'),
    'ListParts': (
        ('Bucket', 'Key', 'UploadId'),
        'Bucket:s Key:s MaxParts:i PartNumberMarker:i UploadId:s RequestPayer:s ExpectedBucketOwner:s '
        'SSECustomerAlgorithm:s SSECustomerKey:s SSECustomerKeyMD5:s'),
}

# Members of one MultipartUpload.Parts entry (CompletedPart).
COMPLETED_PART = {'ETag': 's', 'ChecksumCRC32': 's', 'ChecksumCRC32C': 's', 'ChecksumSHA1': 's',
                  'ChecksumSHA256': 's', 'PartNumber': 'i'}

# Parameters the channel carries (the wire contract in docs/channel.md).
_GET_OVERRIDES = ('ResponseCacheControl', 'ResponseContentDisposition', 'ResponseContentEncoding',
                  'ResponseContentLanguage', 'ResponseContentType')
_NEW_OBJECT = ('Bucket', 'Key', 'ContentType', 'Metadata', 'CacheControl', 'ContentDisposition', 'ContentEncoding',
               'ContentLanguage', 'StorageClass', 'ServerSideEncryption', 'Tagging')
FORWARDED = {
    'GetObject': frozenset(('Bucket', 'Key', 'Range', 'IfMatch', 'IfNoneMatch', 'IfModifiedSince',
                            'IfUnmodifiedSince', 'ChecksumMode') + _GET_OVERRIDES),
    'PutObject': frozenset(_NEW_OBJECT + ('ContentMD5', 'ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumSHA1', 'ChecksumSHA256')),
    'HeadObject': frozenset(('Bucket', 'Key', 'Range', 'IfMatch', 'IfNoneMatch', 'IfModifiedSince',
                             'IfUnmodifiedSince', 'ChecksumMode')),
    'DeleteObject': frozenset(('Bucket', 'Key')),
    'DeleteObjects': frozenset(('Bucket', 'Delete')),
    'ListObjectsV2': frozenset(('Bucket', 'Prefix', 'Delimiter', 'MaxKeys', 'ContinuationToken', 'StartAfter',
                                'FetchOwner')),
    'ListObjects': frozenset(('Bucket', 'Prefix', 'Delimiter', 'MaxKeys', 'Marker')),
    'CopyObject': frozenset(('Bucket', 'Key', 'CopySource', 'MetadataDirective', 'ContentType', 'Metadata')),
    'HeadBucket': frozenset(('Bucket',)),
    'ListBuckets': frozenset(),
    # The node refuses every CreateBucket from a function (AccessDenied); the options travel only to be refused with it.
    'CreateBucket': frozenset(('ACL', 'Bucket', 'CreateBucketConfiguration', 'GrantFullControl', 'GrantRead',
                               'GrantReadACP', 'GrantWrite', 'GrantWriteACP', 'ObjectLockEnabledForBucket',
                               'ObjectOwnership')),
    'GetObjectTagging': frozenset(('Bucket', 'Key')),
    'PutObjectTagging': frozenset(('Bucket', 'Key', 'Tagging')),
    'DeleteObjectTagging': frozenset(('Bucket', 'Key')),
    'CreateMultipartUpload': frozenset(_NEW_OBJECT + ('ChecksumAlgorithm',)),
    'UploadPart': frozenset(('Bucket', 'Key', 'UploadId', 'PartNumber', 'ContentMD5', 'ChecksumCRC32', 'ChecksumCRC32C',
                             'ChecksumSHA1', 'ChecksumSHA256')),
    'CompleteMultipartUpload': frozenset(('Bucket', 'Key', 'UploadId', 'MultipartUpload')),
    'AbortMultipartUpload': frozenset(('Bucket', 'Key', 'UploadId')),
    'ListParts': frozenset(('Bucket', 'Key', 'UploadId', 'MaxParts', 'PartNumberMarker')),
}

# Parameters a presigned URL may carry, per client method (the backend signs them; the others raise
# NexusUnsupportedError): client method -> (operation, forwarded parameters).
# Headers are signed into the URL (X-Amz-SignedHeaders): its user must send them as given (a range and conditions on a
# read; the new object's headers, Content-MD5 and a checksum on an upload, which the store checks the body against).
_PRESIGNED_READ = ('Bucket', 'Key', 'Range', 'IfMatch', 'IfNoneMatch', 'IfModifiedSince', 'IfUnmodifiedSince')
_PRESIGNED_INTEGRITY = ('ContentMD5', 'ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumSHA1', 'ChecksumSHA256')
PRESIGNABLE = {
    'get_object': ('GetObject', frozenset(_PRESIGNED_READ + _GET_OVERRIDES)),
    'head_object': ('HeadObject', frozenset(_PRESIGNED_READ)),
    'put_object': ('PutObject', frozenset(_NEW_OBJECT + _PRESIGNED_INTEGRITY)),
    'upload_part': ('UploadPart', frozenset(('Bucket', 'Key', 'UploadId', 'PartNumber') + _PRESIGNED_INTEGRITY)),
    'delete_object': ('DeleteObject', frozenset(('Bucket', 'Key'))),
}

# Timestamp parameters: sent as ISO 8601 UTC strings.
TIMESTAMPS = frozenset(('IfModifiedSince', 'IfUnmodifiedSince'))

# Accepted and dropped: they change nothing observable on the node's store
# (one owner, no requester-pays, integrity is the backend's job). ContentMD5 is
# dropped only where it is not forwarded (PutObjectTagging: the backend builds that body).
IGNORED = frozenset((
    'RequestPayer', 'ExpectedBucketOwner', 'ExpectedSourceBucketOwner',
    'ChecksumAlgorithm', 'ContentMD5', 'ContentLength'))

# The object checksums GetObject and HeadObject answer in botocore 1.29's model. The backend reports the ones the
# store sent (it asks for them to check bodies); boto3 shows them only to a call with ChecksumMode='ENABLED'.
CHECKSUM_FIELDS = ('ChecksumCRC32', 'ChecksumCRC32C', 'ChecksumSHA1', 'ChecksumSHA256')

# A PutObject's or UploadPart's ChecksumAlgorithm: the checksum botocore 1.29 computes in the client (CRC32C only with
# awscrt), and the parameter that carries it to the store.
PUT_CHECKSUMS = {'crc32': 'ChecksumCRC32', 'crc32c': 'ChecksumCRC32C', 'sha1': 'ChecksumSHA1', 'sha256': 'ChecksumSHA256'}

# Keys with an S3 "min": 1 constraint.
MIN_LENGTH_ONE = frozenset(('Key',))

# Every S3 client method of botocore 1.29; the ones not offloaded raise NexusUnsupportedError.
ALL_METHODS = frozenset((
    'abort_multipart_upload complete_multipart_upload copy_object create_bucket create_multipart_upload '
    'delete_bucket delete_bucket_analytics_configuration delete_bucket_cors delete_bucket_encryption '
    'delete_bucket_intelligent_tiering_configuration delete_bucket_inventory_configuration '
    'delete_bucket_lifecycle delete_bucket_metrics_configuration delete_bucket_ownership_controls '
    'delete_bucket_policy delete_bucket_replication delete_bucket_tagging delete_bucket_website '
    'delete_object delete_object_tagging delete_objects delete_public_access_block '
    'get_bucket_accelerate_configuration get_bucket_acl get_bucket_analytics_configuration get_bucket_cors '
    'get_bucket_encryption get_bucket_intelligent_tiering_configuration get_bucket_inventory_configuration '
    'get_bucket_lifecycle get_bucket_lifecycle_configuration get_bucket_location get_bucket_logging '
    'get_bucket_metrics_configuration get_bucket_notification get_bucket_notification_configuration '
    'get_bucket_ownership_controls get_bucket_policy get_bucket_policy_status get_bucket_replication '
    'get_bucket_request_payment get_bucket_tagging get_bucket_versioning get_bucket_website get_object '
    'get_object_acl get_object_attributes get_object_legal_hold get_object_lock_configuration '
    'get_object_retention get_object_tagging get_object_torrent get_public_access_block head_bucket '
    'head_object list_bucket_analytics_configurations list_bucket_intelligent_tiering_configurations '
    'list_bucket_inventory_configurations list_bucket_metrics_configurations list_buckets '
    'list_multipart_uploads list_object_versions list_objects list_objects_v2 list_parts '
    'put_bucket_accelerate_configuration put_bucket_acl put_bucket_analytics_configuration put_bucket_cors '
    'put_bucket_encryption put_bucket_intelligent_tiering_configuration put_bucket_inventory_configuration '
    'put_bucket_lifecycle put_bucket_lifecycle_configuration put_bucket_logging '
    'put_bucket_metrics_configuration put_bucket_notification put_bucket_notification_configuration '
    'put_bucket_ownership_controls put_bucket_policy put_bucket_replication put_bucket_request_payment '
    'put_bucket_tagging put_bucket_versioning put_bucket_website put_object put_object_acl '
    'put_object_legal_hold put_object_lock_configuration put_object_retention put_object_tagging '
    'put_public_access_block restore_object select_object_content upload_part upload_part_copy '
    'write_get_object_response generate_presigned_url generate_presigned_post'
).split())

_cache = {}


def shape(operation):
    """(required names, {member: type code}) for an operation, parsed once."""
    parsed = _cache.get(operation)
    if parsed is None:
        required, members = _SHAPES[operation]
        parsed = (required, dict(m.split(':') for m in members.split()))
        _cache[operation] = parsed
    return parsed
