# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Managed transfers (upload_file, download_file, *_fileobj, copy) over the Nexus channel.

boto3 runs these through s3transfer. Uploads here take s3transfer's decisions:
below TransferConfig.multipart_threshold one PutObject, from it a multipart
upload with s3transfer's part size (multipart_chunksize adjusted to S3's limits),
so the stored object and its ETag are the same; each request streams its part
through the shared region. A download is one streamed GetObject (s3transfer
splits big ones into ranged GETs across threads only to fill sockets; the
channel has none). Results, errors and callbacks match boto3: download errors
are reported as s3transfer's HeadObject errors, ClientErrors of upload_file
become S3UploadFailedError, ExtraArgs are checked against the same allow-lists.
"""

import os

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError

KB = 1024
MB = KB * KB

# Chunk used to move payloads between the region and files (bigger than s3transfer's 256 KiB io_chunksize
# because there is no socket buffer to match, and each chunk costs a system call).
_IO_CHUNK = 1 * MB

ALLOWED_DOWNLOAD_ARGS = [
    'ChecksumMode', 'VersionId', 'SSECustomerAlgorithm', 'SSECustomerKey', 'SSECustomerKeyMD5',
    'RequestPayer', 'ExpectedBucketOwner',
]
ALLOWED_UPLOAD_ARGS = [
    'ACL', 'CacheControl', 'ChecksumAlgorithm', 'ContentDisposition', 'ContentEncoding', 'ContentLanguage',
    'ContentType', 'ExpectedBucketOwner', 'Expires', 'GrantFullControl', 'GrantRead', 'GrantReadACP',
    'GrantWriteACP', 'Metadata', 'ObjectLockLegalHoldStatus', 'ObjectLockMode', 'ObjectLockRetainUntilDate',
    'RequestPayer', 'ServerSideEncryption', 'StorageClass', 'SSECustomerAlgorithm', 'SSECustomerKey',
    'SSECustomerKeyMD5', 'SSEKMSKeyId', 'SSEKMSEncryptionContext', 'Tagging', 'WebsiteRedirectLocation',
]
ALLOWED_COPY_ARGS = ALLOWED_UPLOAD_ARGS + [
    'CopySourceIfMatch', 'CopySourceIfModifiedSince', 'CopySourceIfNoneMatch', 'CopySourceIfUnmodifiedSince',
    'CopySourceSSECustomerAlgorithm', 'CopySourceSSECustomerKey', 'CopySourceSSECustomerKeyMD5',
    'MetadataDirective', 'TaggingDirective',
]


# s3transfer's limits (s3transfer.utils): part sizes and count S3 accepts.
_MIN_PART = 5 * MB
_MAX_PART = 5 * 1024 * MB
_MAX_PARTS = 10000

# ExtraArgs that s3transfer passes on to each UploadPart and to CompleteMultipartUpload.
_UPLOAD_PART_ARGS = ('ChecksumAlgorithm', 'SSECustomerKey', 'SSECustomerAlgorithm', 'SSECustomerKeyMD5', 'RequestPayer',
                     'ExpectedBucketOwner')
_COMPLETE_ARGS = ('RequestPayer', 'ExpectedBucketOwner')


class TransferConfig:
    """boto3.s3.transfer.TransferConfig: accepted; thread and part settings have no effect on the channel."""

    ALIAS = {'max_concurrency': 'max_request_concurrency', 'max_io_queue': 'max_io_queue_size'}

    def __init__(self, multipart_threshold=8 * MB, max_concurrency=10, multipart_chunksize=8 * MB,
                 num_download_attempts=5, max_io_queue=100, io_chunksize=256 * KB, use_threads=True,
                 max_bandwidth=None):
        self.multipart_threshold = multipart_threshold
        self.max_request_concurrency = max_concurrency
        self.multipart_chunksize = multipart_chunksize
        self.num_download_attempts = num_download_attempts
        self.max_io_queue_size = max_io_queue
        self.io_chunksize = io_chunksize
        self.max_bandwidth = max_bandwidth
        self.use_threads = use_threads
        for alias, name in self.ALIAS.items():
            setattr(self, alias, getattr(self, name))

    def __setattr__(self, name, value):
        if name in self.ALIAS:
            super().__setattr__(self.ALIAS[name], value)
        super().__setattr__(name, value)


class S3Transfer:
    """boto3.s3.transfer.S3Transfer over a stand-in client."""

    ALLOWED_DOWNLOAD_ARGS = ALLOWED_DOWNLOAD_ARGS
    ALLOWED_UPLOAD_ARGS = ALLOWED_UPLOAD_ARGS

    def __init__(self, client=None, config=None, osutil=None, manager=None):
        if not client and not manager:
            raise ValueError('Either a boto3.Client or s3transfer.manager.TransferManager must be provided')
        if manager is not None:
            from botocore.exceptions import NexusUnsupportedError
            raise NexusUnsupportedError(what='S3Transfer with an s3transfer TransferManager')
        self._client = client
        self._config = config

    def upload_file(self, filename, bucket, key, callback=None, extra_args=None):
        return upload_file(self._client, filename, bucket, key, extra_args, callback, self._config)

    def download_file(self, bucket, key, filename, extra_args=None, callback=None):
        return download_file(self._client, bucket, key, filename, extra_args, callback)

    def __enter__(self):
        return self

    def __exit__(self, *args):
        pass


def _extra(extra_args, allowed):
    if extra_args is None:
        return {}
    for name in extra_args:
        if name not in allowed:
            raise ValueError(f"Invalid extra_args key '{name}', must be one of: {', '.join(allowed)}")
    return dict(extra_args)


class _ProgressReader:
    """Readable file object handed to the channel; reports bytes read to the Callback, like s3transfer."""

    def __init__(self, fileobj, callback):
        self._fileobj = fileobj
        self._callback = callback

    def read(self, n=-1):
        data = self._fileobj.read(n)
        if self._callback is not None and data:
            self._callback(len(data))
        return data

    def readinto(self, buffer):
        readinto = getattr(self._fileobj, 'readinto', None)
        if readinto is None:
            data = self._fileobj.read(len(buffer))
            count = len(data)
            buffer[:count] = data
        else:
            count = readinto(buffer) or 0
        if self._callback is not None and count:
            self._callback(count)
        return count

    def readable(self):
        return True

    # The channel sizes a request body by seeking; a seekable source is then streamed chunk by chunk.
    def seekable(self):
        seekable = getattr(self._fileobj, 'seekable', None)
        return bool(seekable()) if seekable is not None else hasattr(self._fileobj, 'seek')

    def tell(self):
        return self._fileobj.tell()

    def seek(self, offset, whence=0):
        return self._fileobj.seek(offset, whence)

    @property
    def unwrapped(self):
        """The source without progress reports: a put's checksum is computed over it (s3transfer reports no bytes
        for that pass either, its seek back takes them off again)."""
        return self._fileobj


class _PartReader(_ProgressReader):
    """One part of a seekable source: bytes [start, start + length), positions relative to the part."""

    def __init__(self, fileobj, start, length, callback):
        super().__init__(fileobj, callback)
        self._start = start
        self._length = length
        self._position = 0
        fileobj.seek(start)

    def read(self, n=-1):
        left = self._length - self._position
        n = left if n is None or n < 0 else min(n, left)
        data = super().read(n) if n else b''
        self._position += len(data)
        return data

    def readinto(self, buffer):
        left = self._length - self._position
        view = memoryview(buffer)[:left] if left < len(buffer) else buffer
        count = super().readinto(view) if left else 0
        self._position += count
        return count

    def seekable(self):
        return True

    @property
    def unwrapped(self):
        """The rest of this part without progress reports (a part's checksum is computed over the part alone)."""
        return _PartReader(self._fileobj, self._start + self._position, self._length - self._position, None)

    def tell(self):
        return self._position

    def seek(self, offset, whence=0):
        base = (0, self._position, self._length)[whence]
        self._position = max(0, min(self._length, base + offset))
        self._fileobj.seek(self._start + self._position)
        return self._position


def _part_size(config, size):
    """s3transfer's ChunksizeAdjuster: the configured part size, doubled until 10,000 parts suffice, within S3's limits."""
    chunk = config.multipart_chunksize
    if size is not None:
        while -(-size // chunk) > _MAX_PARTS:
            chunk *= 2
    return max(_MIN_PART, min(_MAX_PART, chunk))


def _size_of(fileobj):
    """Bytes left in a seekable source, or None (s3transfer then reads it part by part into memory)."""
    try:
        if not fileobj.seekable():
            return None
        start = fileobj.tell()
        end = fileobj.seek(0, 2)
        fileobj.seek(start)
        return end - start
    except (AttributeError, OSError, ValueError):
        return None


def _upload(client, fileobj, bucket, key, extra, callback, config):
    """s3transfer's upload decision: one PutObject below the threshold, else a multipart upload."""
    config = config or TransferConfig()
    size = _size_of(fileobj)
    if size is not None and size < config.multipart_threshold:
        client.put_object(Bucket=bucket, Key=key, Body=_ProgressReader(fileobj, callback), **extra)
        return
    first = None
    if size is None:
        first = fileobj.read(config.multipart_threshold)
        if len(first) < config.multipart_threshold:
            client.put_object(Bucket=bucket, Key=key, Body=first, **extra)
            if callback is not None and first:
                callback(len(first))
            return
    _multipart(client, fileobj, size, first, bucket, key, extra, callback, config)


def _multipart(client, fileobj, size, first, bucket, key, extra, callback, config):
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)['UploadId']
    part_args = {name: extra[name] for name in _UPLOAD_PART_ARGS if name in extra}

    def parts():
        chunk = _part_size(config, size)
        if size is not None:
            start = fileobj.tell()
            bodies = (_PartReader(fileobj, start + offset, min(chunk, size - offset), callback)
                      for offset in range(0, max(size, 1), chunk))
        else:
            bodies = _memory_parts(fileobj, first, chunk, callback)
        # As s3transfer: with a ChecksumAlgorithm, each part's checksum goes into the completion's part list.
        checksum_member = 'Checksum' + extra['ChecksumAlgorithm'].upper() if 'ChecksumAlgorithm' in extra else None
        for number, part in enumerate(bodies, 1):
            response = client.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=part,
                                          **part_args)
            entry = {'ETag': response['ETag'], 'PartNumber': number}
            if checksum_member in response:
                entry[checksum_member] = response[checksum_member]
            yield entry

    _complete(client, bucket, key, upload_id, parts(), extra)


def _complete(client, bucket, key, upload_id, parts, extra):
    """Sends the parts (an iterator that makes each one) and completes the upload; aborts it if anything fails."""
    try:
        client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id,
                                         MultipartUpload={'Parts': list(parts)},
                                         **{name: extra[name] for name in _COMPLETE_ARGS if name in extra})
    except BaseException:
        # s3transfer aborts a failed multipart upload, so no parts are left behind.
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except ClientError:
            pass
        raise


def _memory_parts(fileobj, first, chunk, callback):
    """Parts of a non-seekable source, read into memory as s3transfer does (the first read was the threshold)."""
    pending = first
    while True:
        while len(pending) < chunk:
            more = fileobj.read(chunk - len(pending))
            if not more:
                break
            pending += more
        if not pending:
            return
        part, pending = pending[:chunk], pending[chunk:]
        if callback is not None:
            callback(len(part))
        yield part
        if not pending and len(part) < chunk:
            return


def upload_file(client, filename, bucket, key, extra_args, callback, config=None):
    if not isinstance(filename, str):
        raise ValueError('Filename must be a string')
    extra = _extra(extra_args, ALLOWED_UPLOAD_ARGS)
    try:
        with open(filename, 'rb') as f:
            _upload(client, f, bucket, key, extra, callback, config)
    except ClientError as e:
        raise S3UploadFailedError(f"Failed to upload {filename} to {'/'.join([bucket, key])}: {e}") from None


def upload_fileobj(client, fileobj, bucket, key, extra_args, callback, config=None):
    extra = _extra(extra_args, ALLOWED_UPLOAD_ARGS)
    _upload(client, fileobj, bucket, key, extra, callback, config)


def _open_download(client, bucket, key, extra):
    """GET the object; errors look like the HeadObject that s3transfer sends first (no body, status only)."""
    try:
        return client.get_object(Bucket=bucket, Key=key, **extra)
    except ClientError as e:
        status = e.response['ResponseMetadata']['HTTPStatusCode']
        raise client._error('HeadObject', status, {}) from None


def _copy_body(response, write, callback):
    raw = response['Body']._raw_stream
    try:
        read_view = getattr(raw, 'read_view', None)
        if read_view is not None:
            # Zero-copy: each view lies over the shared region and is written straight to the target.
            while True:
                view = read_view(_IO_CHUNK)
                if not view:
                    break
                write(view)
                if callback is not None:
                    callback(len(view))
            return
        buffer = memoryview(bytearray(_IO_CHUNK))
        while True:
            count = raw.readinto(buffer)
            if not count:
                break
            write(buffer[:count])
            if callback is not None:
                callback(count)
    finally:
        raw.close()


def download_file(client, bucket, key, filename, extra_args, callback):
    if not isinstance(filename, str):
        raise ValueError('Filename must be a string')
    extra = _extra(extra_args, ALLOWED_DOWNLOAD_ARGS)
    response = _open_download(client, bucket, key, extra)
    # s3transfer writes to a temporary name beside the target and renames it into place when complete.
    temp = filename + os.extsep + os.urandom(4).hex()
    try:
        with open(temp, 'wb') as f:
            _copy_body(response, f.write, callback)
        os.rename(temp, filename)
    except BaseException:
        response['Body'].close()
        try:
            os.remove(temp)
        except OSError:
            pass
        raise


def download_fileobj(client, bucket, key, fileobj, extra_args, callback):
    extra = _extra(extra_args, ALLOWED_DOWNLOAD_ARGS)
    response = _open_download(client, bucket, key, extra)
    _copy_body(response, fileobj.write, callback)


_COPY_TO_HEAD = {
    'CopySourceIfMatch': 'IfMatch', 'CopySourceIfModifiedSince': 'IfModifiedSince',
    'CopySourceIfNoneMatch': 'IfNoneMatch', 'CopySourceIfUnmodifiedSince': 'IfUnmodifiedSince',
    'CopySourceSSECustomerAlgorithm': 'SSECustomerAlgorithm', 'CopySourceSSECustomerKey': 'SSECustomerKey',
    'CopySourceSSECustomerKeyMD5': 'SSECustomerKeyMD5', 'RequestPayer': 'RequestPayer',
    'ExpectedBucketOwner': 'ExpectedBucketOwner',
}


# s3transfer's lists for a multipart copy (s3transfer.copies.CopySubmissionTask).
_UPLOAD_PART_COPY_ARGS = (
    'CopySourceIfMatch', 'CopySourceIfModifiedSince', 'CopySourceIfNoneMatch', 'CopySourceIfUnmodifiedSince',
    'CopySourceSSECustomerKey', 'CopySourceSSECustomerAlgorithm', 'CopySourceSSECustomerKeyMD5', 'SSECustomerKey',
    'SSECustomerAlgorithm', 'SSECustomerKeyMD5', 'RequestPayer', 'ExpectedBucketOwner',
)
_CREATE_MULTIPART_COPY_BLACKLIST = (
    'CopySourceIfMatch', 'CopySourceIfModifiedSince', 'CopySourceIfNoneMatch', 'CopySourceIfUnmodifiedSince',
    'CopySourceSSECustomerKey', 'CopySourceSSECustomerAlgorithm', 'CopySourceSSECustomerKeyMD5', 'MetadataDirective',
    'TaggingDirective',
)


def copy(client, copy_source, bucket, key, extra_args, callback, config=None, source_client=None):
    """Managed copy as s3transfer 0.6 makes it: HeadObject on the source (for its size and its errors), then below
    TransferConfig.multipart_threshold one CopyObject, from it a multipart upload of UploadPartCopy ranges. As
    s3transfer, the multipart form does not carry the source's Content-Type, metadata or tags over (only what ExtraArgs
    names), and its ETag is the multipart one (`-N`), so the new object is the one baseline makes."""
    extra = _extra(extra_args, ALLOWED_COPY_ARGS)
    if not isinstance(copy_source, dict):
        raise TypeError('Expecting dictionary formatted: {"Bucket": bucket_name, "Key": key} '
                        f'but got {copy_source} or type {type(copy_source)}.')
    config = config or TransferConfig()
    head_args = dict(copy_source)
    for name, value in extra.items():
        if name in _COPY_TO_HEAD:
            head_args[_COPY_TO_HEAD[name]] = value
    size = (source_client or client).head_object(**head_args)['ContentLength']
    if size < config.multipart_threshold:
        client.copy_object(CopySource=copy_source, Bucket=bucket, Key=key, **extra)
        if callback is not None:
            callback(size)
        return
    create_args = {name: value for name, value in extra.items() if name not in _CREATE_MULTIPART_COPY_BLACKLIST}
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **create_args)['UploadId']
    part_args = {name: extra[name] for name in _UPLOAD_PART_COPY_ARGS if name in extra}

    def parts():
        chunk = _part_size(config, size)
        for number, start in enumerate(range(0, size, chunk), 1):
            end = min(start + chunk, size) - 1
            response = client.upload_part_copy(CopySource=copy_source, Bucket=bucket, Key=key, UploadId=upload_id,
                                               PartNumber=number, CopySourceRange=f'bytes={start}-{end}', **part_args)
            if callback is not None:
                callback(end + 1 - start)
            yield {'ETag': response['CopyPartResult']['ETag'], 'PartNumber': number}

    _complete(client, bucket, key, upload_id, parts(), extra)
