# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""An in-memory stand-in for nexus_channel's transport: answers like the backend (meta = boto3 fields as JSON).

Unit tests only. It records every call and how request bodies were read, so
tests can check what went on the wire and that payloads were streamed.
"""

import hashlib
import io
from datetime import datetime, timezone


class FakeResponse:
    def __init__(self, status, meta, body=None):
        self.status = status
        self.meta = meta
        self.body = body


class FakeBody(io.BytesIO):
    """Raw body stream; counts read calls so tests see chunking."""

    def __init__(self, data):
        super().__init__(data)
        self.reads = 0
        self.closed_by_client = False

    def read(self, n=-1):
        self.reads += 1
        return super().read(n)

    def readinto(self, buffer):
        self.reads += 1
        return super().readinto(buffer)

    def close(self):
        self.closed_by_client = True
        super().close()


def _error(status, code, message, **extra):
    error = {'Code': code, 'Message': message}
    error.update(extra)
    return FakeResponse(status, {'Error': error, 'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'}})


class FakeTransport:
    def __init__(self, buckets=('bucket',)):
        self.buckets = {name: {} for name in buckets}
        self.calls = []
        self.body_reads = []
        self.clock = 0
        self.bodies = []
        # Checksum fields the "backend" answers for a key, as it passes on the store's.
        self.checksums = {}
        # Multipart uploads in progress: id -> {'params': the create's, 'parts': {number: bytes}}.
        self.uploads = {}

    def put(self, bucket, key, data, content_type='binary/octet-stream', metadata=None):
        self.clock += 1
        stamp = datetime(2024, 5, 1, 12, 0, self.clock % 60, 123000, tzinfo=timezone.utc)
        self.buckets[bucket][key] = {
            'data': bytes(data), 'etag': '"' + hashlib.md5(data).hexdigest() + '"',
            'type': content_type, 'meta': dict(metadata or {}), 'modified': stamp.isoformat().replace('+00:00', 'Z'),
        }

    def call(self, op, params, body=None, timeout=None):
        self.calls.append((op, dict(params)))
        handler = getattr(self, '_' + op)
        return handler(params, body)

    def _object(self, params):
        bucket = self.buckets.get(params['Bucket'])
        if bucket is None:
            return None, _error(404, 'NoSuchBucket', 'The specified bucket does not exist',
                                BucketName=params['Bucket'])
        entry = bucket.get(params['Key'])
        if entry is None:
            return None, _error(404, 'NoSuchKey', 'The specified key does not exist.', Key=params['Key'])
        if 'IfMatch' in params and params['IfMatch'] != entry['etag']:
            return None, _error(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold')
        if 'IfNoneMatch' in params and params['IfNoneMatch'] == entry['etag']:
            return None, FakeResponse(304, {})
        return entry, None

    def _head_fields(self, entry):
        return {
            'AcceptRanges': 'bytes', 'LastModified': entry['modified'], 'ContentLength': len(entry['data']),
            'ETag': entry['etag'], 'ContentType': entry['type'], 'Metadata': dict(entry['meta']),
            'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'},
        }

    def _GetObject(self, params, body):
        entry, error = self._object(params)
        if error:
            return error
        data = entry['data']
        meta = dict(self._head_fields(entry), **self.checksums.get(params['Key'], {}))
        status = 200
        if 'Range' in params:
            first, last = params['Range'][len('bytes='):].split('-')
            if not first:
                first, last = max(len(data) - int(last), 0), str(len(data) - 1)
            first = int(first)
            last = min(int(last), len(data) - 1) if last else len(data) - 1
            if first >= len(data):
                return _error(416, 'InvalidRange', 'The requested range is not satisfiable',
                              RangeRequested=params['Range'], ActualObjectSize=str(len(data)))
            meta['ContentRange'] = f'bytes {first}-{last}/{len(data)}'
            data = data[first:last + 1]
            meta['ContentLength'] = len(data)
            status = 206
        stream = FakeBody(data)
        self.bodies.append(stream)
        return FakeResponse(status, meta, stream)

    def _HeadObject(self, params, body):
        entry, error = self._object(params)
        if error:
            return error
        return FakeResponse(200, dict(self._head_fields(entry), **self.checksums.get(params['Key'], {})))

    def _PutObject(self, params, body):
        if params['Bucket'] not in self.buckets:
            return _error(404, 'NoSuchBucket', 'The specified bucket does not exist', BucketName=params['Bucket'])
        data = self._read(body)
        self.put(params['Bucket'], params['Key'], data, params.get('ContentType', 'binary/octet-stream'),
                 params.get('Metadata'))
        entry = self.buckets[params['Bucket']][params['Key']]
        return FakeResponse(200, {'ETag': entry['etag'], 'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'}})

    def _read(self, body):
        """A request body as the backend takes it: bytes, or a stream read in chunks (recorded in body_reads)."""
        if body is None or isinstance(body, (bytes, bytearray, memoryview)):
            data = bytes(body or b'')
            self.body_reads.append([len(data)])
            return data
        chunks = []
        sizes = []
        buffer = bytearray(64 * 1024)
        while True:
            count = body.readinto(buffer)
            if not count:
                break
            sizes.append(count)
            chunks.append(bytes(buffer[:count]))
        self.body_reads.append(sizes)
        return b''.join(chunks)

    def _CreateMultipartUpload(self, params, body):
        upload_id = 'upload-%d' % (len(self.uploads) + 1)
        self.uploads[upload_id] = {'params': dict(params), 'parts': {}}
        meta = {'Bucket': params['Bucket'], 'Key': params['Key'], 'UploadId': upload_id,
                'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'}}
        if 'ChecksumAlgorithm' in params:
            meta['ChecksumAlgorithm'] = params['ChecksumAlgorithm'].upper()
        return FakeResponse(200, meta)

    def _UploadPart(self, params, body):
        data = self._read(body)
        self.uploads[params['UploadId']]['parts'][params['PartNumber']] = data
        # The store answers a part with the checksum it checked the part against.
        checksums = {name: value for name, value in params.items() if name.startswith('Checksum')}
        return FakeResponse(200, dict(checksums, ETag='"%s"' % hashlib.md5(data).hexdigest(),
                                      ResponseMetadata={'RequestId': 'REQ', 'HostId': 'HOST'}))

    def _CompleteMultipartUpload(self, params, body):
        upload = self.uploads.pop(params['UploadId'])
        parts = params['MultipartUpload']['Parts']
        created = upload['params']
        self.put(params['Bucket'], params['Key'], b''.join(upload['parts'][p['PartNumber']] for p in parts),
                 created.get('ContentType', 'binary/octet-stream'), created.get('Metadata'))
        return FakeResponse(200, {'Bucket': params['Bucket'], 'Key': params['Key'], 'ETag': '"mpu-%d"' % len(parts),
                                  'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'}})

    def _DeleteObject(self, params, body):
        if params['Bucket'] not in self.buckets:
            return _error(404, 'NoSuchBucket', 'The specified bucket does not exist', BucketName=params['Bucket'])
        self.buckets[params['Bucket']].pop(params['Key'], None)
        return FakeResponse(204, {'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'}})

    def _DeleteObjects(self, params, body):
        bucket = self.buckets.get(params['Bucket'])
        if bucket is None:
            return _error(404, 'NoSuchBucket', 'The specified bucket does not exist', BucketName=params['Bucket'])
        deleted = []
        for item in params['Delete']['Objects']:
            bucket.pop(item['Key'], None)
            deleted.append({'Key': item['Key']})
        meta = {'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'}}
        if not params['Delete'].get('Quiet'):
            meta['Deleted'] = deleted
        return FakeResponse(200, meta)

    def _ListObjectsV2(self, params, body):
        bucket = self.buckets.get(params['Bucket'])
        if bucket is None:
            return _error(404, 'NoSuchBucket', 'The specified bucket does not exist', BucketName=params['Bucket'])
        prefix = params.get('Prefix', '')
        delimiter = params.get('Delimiter')
        max_keys = params.get('MaxKeys', 1000)
        after = params.get('ContinuationToken') or params.get('StartAfter') or ''
        contents, prefixes, last, truncated = [], [], None, False
        for key in sorted(k for k in bucket if k.startswith(prefix) and k > after):
            rolled = None
            if delimiter:
                cut = key.find(delimiter, len(prefix))
                if cut >= 0:
                    rolled = key[:cut + len(delimiter)]
                    if rolled in prefixes:
                        continue
            if len(contents) + len(prefixes) == max_keys:
                truncated = True
                break
            if rolled:
                prefixes.append(rolled)
                last = rolled + '\uffff'
            else:
                entry = bucket[key]
                contents.append({'Key': key, 'LastModified': entry['modified'], 'ETag': entry['etag'],
                                 'Size': len(entry['data']), 'StorageClass': 'STANDARD'})
                last = key
        meta = {'IsTruncated': truncated, 'Name': params['Bucket'], 'Prefix': prefix, 'MaxKeys': max_keys,
                'EncodingType': 'url', 'KeyCount': len(contents) + len(prefixes),
                'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'}}
        if contents:
            meta['Contents'] = contents
        if prefixes:
            meta['CommonPrefixes'] = [{'Prefix': p} for p in prefixes]
        if delimiter:
            meta['Delimiter'] = delimiter
        if truncated:
            meta['NextContinuationToken'] = last
        if 'ContinuationToken' in params:
            meta['ContinuationToken'] = params['ContinuationToken']
        if 'StartAfter' in params:
            meta['StartAfter'] = params['StartAfter']
        return FakeResponse(200, meta)

    def _CopyObject(self, params, body):
        source = params['CopySource']
        if isinstance(source, str):
            bucket, _, key = source.partition('/')
        else:
            bucket, key = source['Bucket'], source['Key']
        entry, error = self._object({'Bucket': bucket, 'Key': key})
        if error:
            return error
        if params['Bucket'] not in self.buckets:
            return _error(404, 'NoSuchBucket', 'The specified bucket does not exist', BucketName=params['Bucket'])
        replace = params.get('MetadataDirective') == 'REPLACE'
        self.put(params['Bucket'], params['Key'], entry['data'],
                 params.get('ContentType', entry['type']) if replace else entry['type'],
                 params.get('Metadata', {}) if replace else entry['meta'])
        copied = self.buckets[params['Bucket']][params['Key']]
        return FakeResponse(200, {'CopyObjectResult': {'ETag': copied['etag'], 'LastModified': copied['modified']},
                                  'ResponseMetadata': {'RequestId': 'REQ', 'HostId': 'HOST'}})
