# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The backend's answer turned into what botocore returns: types, HTTP headers, response metadata, and the
retries botocore would report for an error the backend's SDK retried."""

import _thread
import os
import time

# http.client.responses for the statuses services answer errors with (http.client is not imported in the sandbox).
REASONS = {
    301: 'Moved Permanently', 304: 'Not Modified', 307: 'Temporary Redirect', 400: 'Bad Request',
    401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
    408: 'Request Timeout', 409: 'Conflict', 411: 'Length Required', 412: 'Precondition Failed',
    413: 'Request Entity Too Large', 414: 'Request-URI Too Long', 416: 'Requested Range Not Satisfiable',
    429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
    503: 'Service Unavailable', 504: 'Gateway Timeout', 505: 'HTTP Version Not Supported',
}

def _headers(meta, request_id):
    """The HTTPHeaders dict botocore exposes, rebuilt from the response fields (lower-case names)."""
    headers = {'x-amz-request-id': request_id}
    if 'LastModified' in meta or 'Expires' in meta:
        from botocore.utils import http_date  # datetime is loaded on the first response, not at import
    if 'LastModified' in meta:
        headers['last-modified'] = http_date(meta['LastModified'])
    if 'ETag' in meta:
        headers['etag'] = meta['ETag']
    if 'AcceptRanges' in meta:
        headers['accept-ranges'] = meta['AcceptRanges']
    if 'ContentRange' in meta:
        headers['content-range'] = meta['ContentRange']
    if 'ContentType' in meta:
        headers['content-type'] = meta['ContentType']
    if 'ContentLength' in meta:
        headers['content-length'] = str(meta['ContentLength'])
    if 'Expires' in meta:
        headers['expires'] = http_date(meta['Expires'])
    for field, name in _HEADER_FIELDS:
        value = meta.get(field)
        if value is not None:
            headers[name] = ('true' if value else 'false') if isinstance(value, bool) else str(value)
    for key, value in (meta.get('Metadata') or {}).items():
        headers['x-amz-meta-' + key] = value
    return headers


# Fields S3 answers in a header of the same meaning (botocore's S3 model: the member's locationName), which a handler
# may read from HTTPHeaders as well as from the field.
_HEADER_FIELDS = (
    ('CacheControl', 'cache-control'), ('ContentDisposition', 'content-disposition'),
    ('ContentEncoding', 'content-encoding'), ('ContentLanguage', 'content-language'),
    ('StorageClass', 'x-amz-storage-class'), ('ServerSideEncryption', 'x-amz-server-side-encryption'),
    ('SSEKMSKeyId', 'x-amz-server-side-encryption-aws-kms-key-id'),
    ('BucketKeyEnabled', 'x-amz-server-side-encryption-bucket-key-enabled'), ('TagCount', 'x-amz-tagging-count'),
    ('WebsiteRedirectLocation', 'x-amz-website-redirect-location'), ('PartsCount', 'x-amz-mp-parts-count'),
    ('ChecksumCRC32', 'x-amz-checksum-crc32'), ('ChecksumCRC32C', 'x-amz-checksum-crc32c'),
    ('ChecksumSHA1', 'x-amz-checksum-sha1'), ('ChecksumSHA256', 'x-amz-checksum-sha256'),
)


def response_metadata(status, wire_meta, fields):
    given = wire_meta.pop('ResponseMetadata', None) or {}
    # S3 always answers with a request id; when the backend passes none on, make one of S3's shape
    # (16 upper-case hex digits) so code that logs or checks it keeps working.
    request_id = given.get('RequestId') or os.urandom(8).hex().upper()
    return {
        'RequestId': request_id,
        'HostId': given.get('HostId', ''),
        'HTTPStatusCode': status,
        'HTTPHeaders': _headers(fields, request_id),
        'RetryAttempts': 0,
    }


# Lists botocore parses from repeated XML elements: absent, never empty, when S3 sends none.
_FLAT_LISTS = ('Contents', 'CommonPrefixes', 'Deleted', 'Errors', 'Parts')


def convert(operation, meta):
    """JSON types to botocore types: timestamps become aware UTC datetimes; botocore's shape quirks."""
    for name in _FLAT_LISTS:
        if name in meta and not meta[name]:
            del meta[name]
    from botocore.utils import parse_timestamp  # datetime is loaded on the first response, not at import
    if operation == 'ListObjectsV2' and 'EncodingType' not in meta:
        # botocore always asks for url encoding (and decodes the keys), so S3 echoes the field.
        meta['EncodingType'] = 'url'
    if 'LastModified' in meta:
        meta['LastModified'] = parse_timestamp(
            meta['LastModified'], whole_seconds=operation in ('GetObject', 'HeadObject'))
    if 'Expires' in meta and operation in ('GetObject', 'HeadObject'):
        # The object's Expires header (an HTTP date), which botocore 1.29 parses into a datetime.
        meta['Expires'] = parse_timestamp(meta['Expires'], whole_seconds=True)
    for entry in (meta.get('Contents') or []) + (meta.get('Parts') or []):
        if 'LastModified' in entry:
            entry['LastModified'] = parse_timestamp(entry['LastModified'])
    result = meta.get('CopyObjectResult')
    if result and 'LastModified' in result:
        result['LastModified'] = parse_timestamp(result['LastModified'])
    if operation in ('GetObject', 'HeadObject') and 'Metadata' not in meta:
        meta['Metadata'] = {}
    for bucket in meta.get('Buckets') or ():
        if 'CreationDate' in bucket:
            bucket['CreationDate'] = parse_timestamp(bucket['CreationDate'])
    return meta


# botocore.retries.standard: the transient statuses, the throttling error codes (which adaptive mode's rate limiter
# counts as throttling too), and those and the transient codes, which standard and adaptive modes retry.
STANDARD_RETRY_STATUS = frozenset((500, 502, 503, 504))
THROTTLING_CODES = frozenset((
    'Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException',
    'TooManyRequestsException', 'ProvisionedThroughputExceededException', 'TransactionInProgressException',
    'RequestLimitExceeded', 'BandwidthLimitExceeded', 'LimitExceededException', 'RequestThrottled',
    'SlowDown', 'PriorRequestNotComplete', 'EC2ThrottledException'))
STANDARD_RETRY_CODES = THROTTLING_CODES | {'RequestTimeout', 'RequestTimeoutException'}


def retry_policy(config, legacy_attempts=5):
    """(mode, total attempts) as botocore resolves them: Config(retries=...), then AWS_RETRY_MODE / AWS_MAX_ATTEMPTS,
    then the mode's default (legacy: the service's, 5 for most; standard: 3)."""
    retries = (config.retries if config is not None else None) or {}
    mode = retries.get('mode') or os.environ.get('AWS_RETRY_MODE') or 'legacy'
    if 'total_max_attempts' in retries:
        attempts = retries['total_max_attempts']
    elif 'max_attempts' in retries:
        attempts = retries['max_attempts'] + 1
    elif os.environ.get('AWS_MAX_ATTEMPTS', '').isdigit():
        attempts = int(os.environ['AWS_MAX_ATTEMPTS'])
    else:
        attempts = legacy_attempts if mode == 'legacy' else 3
    return mode, attempts


class RetryQuota:
    """botocore's standard-mode retry quota (retries/quota.py, standard.RetryQuotaChecker), one per client: 500 units;
    a retry takes 5 (a read timeout's 10) or is not made; a call that ends in a 2xx gives back what its last retry
    took, or 1 if it was not retried."""

    CAPACITY = 500

    def __init__(self):
        self._lock = _thread.allocate_lock()   # not threading: the S3 client makes one, and threading is not loaded
        self._available = self.CAPACITY

    def acquire(self, amount):
        with self._lock:
            if amount > self._available:
                return False
            self._available -= amount
            return True

    def release(self, amount):
        with self._lock:
            self._available = min(self.CAPACITY, self._available + amount)


def back_off(mode, attempt, legacy_base=None):
    """botocore's exponential backoff before attempt + 1: base * 2^(attempt - 1) s, the base random in [0, 1) unless
    the service's legacy policy fixes it (standard mode: random, at most 20 s)."""
    jitter = int.from_bytes(os.urandom(2), 'big') / 65536
    if mode == 'legacy':
        base = jitter if legacy_base is None else legacy_base
        time.sleep(base * 2 ** (attempt - 1))
    else:
        time.sleep(min(jitter * 2 ** (attempt - 1), 20))


def retried(config, status, code):
    """Whether botocore would have retried this error (S3's legacy policy also retries BadDigest)."""
    return status in STANDARD_RETRY_STATUS or code in STANDARD_RETRY_CODES or \
        (code == 'BadDigest' and retry_policy(config)[0] == 'legacy')


def retry_attempts(config):
    """The retries botocore would report: legacy mode 4, standard 2, or what Config/AWS_MAX_ATTEMPTS set."""
    return retry_policy(config)[1] - 1
