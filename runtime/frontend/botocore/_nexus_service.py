# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""What the stand-in's own clients of services other than S3 share (botocore.client.OWN_CLIENTS): a call is the HTTP
request the real botocore would make of it, sent as the generic path sends one (a ServiceRequest on the channel, which
the backend checks against the function's grants, signs and sends to the service's endpoint), retried as botocore's
retry handler retries it; the protocol's parsing is the subclass's. Methods a client does not serve are the real
botocore's, loaded on first use (generic path), and so is every call of a client with event handlers registered.
"""

import _thread
import functools
import io
import json
import os
from binascii import crc32

from botocore._nexus_responses import (REASONS, STANDARD_RETRY_CODES, STANDARD_RETRY_STATUS, THROTTLING_CODES,
                                       RetryQuota, back_off, retry_policy)
from botocore.client import (OWN_CLIENTS, BaseClient, ClientMeta, _get_transport, channel_errors, channel_timeouts,
                             names_no_endpoint)
from botocore.endpoint import Endpoint, PreparedRequest
from botocore.exceptions import ChecksumError, ConnectionClosedError, EndpointConnectionError, ReadTimeoutError

# botocore's legacy policy (_retry.json, __default__): statuses, and error codes retried with a 400.
_LEGACY_STATUS = frozenset((429, 500, 502, 503, 504, 509))
_LEGACY_CODES = frozenset(('Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException',
                           'ProvisionedThroughputExceededException'))

_USER_AGENT = 'Boto3/1.26.27 Botocore/1.29.27 nexus-stand-in'
_limiter_lock = _thread.allocate_lock()   # a client's first adaptive calls on several threads make one limiter
_ENDPOINT = Endpoint()
_UNRESERVED = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~')
# What botocore leaves unquoted in the X-Amzn-Trace-Id it copies from _X_AMZN_TRACE_ID.
_TRACE_SAFE = _UNRESERVED | frozenset(b'=;:+&[]{}"\',')


def percent_encode(text, safe=_UNRESERVED):
    """botocore's percent_encode: UTF-8, every byte outside ``safe`` as %XX."""
    return ''.join(chr(b) if b in safe else f'%{b:02X}' for b in text.encode('utf-8'))


def own_client_class(service_name):
    """The stand-in's client class of one of botocore.client.OWN_CLIENTS (its module loaded on first need)."""
    import importlib
    module, name = OWN_CLIENTS[service_name]
    return getattr(importlib.import_module(f'botocore.{module}'), name)


def stand_in_client_class(service_name, api_version=None):
    """The stand-in's client class of a service other than S3: its own (OWN_CLIENTS), else the one read from its model
    (_nexus_model_clients.py); None when only the real botocore can make the client."""
    if service_name in OWN_CLIENTS:
        return own_client_class(service_name)
    from botocore._nexus_model_clients import model_client_class
    return model_client_class(service_name, api_version)


def body_json(raw):
    """botocore's _parse_body_as_json: {} for no body, the text as 'message' when it is not JSON."""
    if not raw:
        return {}
    text = raw.decode('utf-8')
    try:
        parsed = json.loads(text)
    except ValueError:
        return {'message': text}
    return parsed if isinstance(parsed, dict) else {}


def generic_error(status, raw):
    """A 5xx answer without a body or with an HTML page, as botocore names it (its status), else None."""
    if status >= 500 and (not raw.strip() or raw.strip().startswith(b'<html>')):
        return {'Error': {'Code': str(status), 'Message': REASONS.get(status, '')}, 'ResponseMetadata': {}}
    return None


def json_error(status, headers, raw):
    """botocore's BaseJSONParser error: the body's message, the code from x-amzn-query-error, __type or the status."""
    body = body_json(raw)
    error = {'Error': {'Message': body.get('message', body.get('Message', '')), 'Code': ''}, 'ResponseMetadata': {}}
    query_error = headers.get('x-amzn-query-error', '').split(';')
    code = query_error[0] if len(query_error) == 2 and query_error[0] else body.get('__type', str(status))
    if code is not None:
        error['Error']['Code'] = code.rsplit('#', 1)[-1]
    if 'x-amzn-requestid' in headers:
        error['ResponseMetadata']['RequestId'] = headers['x-amzn-requestid']
    return error


def rest_json_error(status, headers, raw):
    """botocore's RestJSONParser error: the JSON one, with the code from x-amzn-ErrorType (before its ':') or else the
    body's code."""
    error = json_error(status, headers, raw)
    body = body_json(raw)
    if 'x-amzn-errortype' in headers:
        error['Error']['Code'] = headers['x-amzn-errortype'].split(':')[0]
    elif 'code' in body or 'Code' in body:
        error['Error']['Code'] = body.get('code', body.get('Code', ''))
    return error


class ResolvingMeta(ClientMeta):
    """client.meta whose endpoint_url and region_name are read from endpoints.json on first use, as botocore's resolver
    gives them (a global service's partition endpoint and its name); most functions never ask, and the file is
    0.6 MB. Set, they are what was set."""

    def __init__(self, prefix, default_endpoint, region_name, *args):
        super().__init__(region_name, None, *args)
        del self.region_name, self.endpoint_url   # read on first use (cached_property: a set value shadows it)
        self._prefix, self._default_endpoint, self._asked_region = prefix, default_endpoint, region_name

    def _resolution(self):
        from botocore._nexus_sdk_data import resolved_endpoint
        return resolved_endpoint(self._prefix, self._asked_region) or \
            (self._default_endpoint(self._asked_region), self._asked_region)

    @functools.cached_property
    def endpoint_url(self):
        return self._resolution()[0]

    @functools.cached_property
    def region_name(self):
        return self._resolution()[1]


class ServiceClient(BaseClient):
    """A client of one service; subclasses name it and parse its protocol's answers."""

    SERVICE = None
    # The endpoint's host prefix where it is not the service's name (SES: email, CloudWatch: monitoring).
    ENDPOINT_PREFIX = None
    # Legacy mode: attempts, backoff base (None: random in [0, 1)) and the (code, status) answers the service's policy
    # retries besides the default's (_retry.json).
    LEGACY_ATTEMPTS = 5
    LEGACY_BASE = None
    LEGACY_CODES = frozenset()
    # Standard mode: error codes the service's special checkers retry besides the transient and throttling ones.
    STANDARD_CODES = frozenset()
    # Whether answers carry botocore-checked CRC32s (x-amz-crc32, DynamoDB).
    CHECKS_CRC32 = False
    # Whether meta.endpoint_url and meta.region_name are read from endpoints.json as botocore's resolver reads them
    # (IAM's https://iam.amazonaws.com in 'aws-global', SimpleDB's sdb.amazonaws.com; on first use): a model-read
    # client's service may be any; the own clients' services all follow the default template.
    READS_ENDPOINTS = False

    def __init__(self, region_name, endpoint_url, config, real_client, service_model, method_to_api_mapping,
                 exceptions):
        region = region_name or (config.region_name if config is not None else None) or \
            os.environ.get('AWS_DEFAULT_REGION') or os.environ.get('AWS_REGION') or 'us-east-1'
        if endpoint_url is None and self.READS_ENDPOINTS:
            self.meta = ResolvingMeta(self.ENDPOINT_PREFIX or self.SERVICE, self._default_endpoint, region, config,
                                       self, service_model, method_to_api_mapping)
        else:
            self.meta = ClientMeta(region, endpoint_url or self._default_endpoint(region), config, self,
                                   service_model, method_to_api_mapping)
        self.exceptions = exceptions
        self._real_client = real_client
        self._retry_quota = RetryQuota()

    def _default_endpoint(self, region):
        """The endpoint botocore 1.29 names for the region (meta.endpoint_url; the node chooses where calls go)."""
        suffix = 'amazonaws.com.cn' if region.startswith('cn-') else 'amazonaws.com'
        return f'https://{self.ENDPOINT_PREFIX or self.SERVICE}.{region}.{suffix}'

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")
        # Not served here: the real botocore's method, its requests sent over the channel (generic path).
        return getattr(self._generic(), name)

    @classmethod
    def exceptions_of_service(cls):
        """The service's client.exceptions object, shared by its clients and given to the real ones."""
        raise NotImplementedError

    def _generic(self):
        """The real botocore client behind this one (loaded on first need)."""
        real = self.__dict__.get('_real')
        if real is None:
            real = self._real = self._real_client()
        return real

    def _success_metadata(self, headers):
        """A successful answer's ResponseMetadata before its status and headers: the request id from the header (JSON
        and REST protocols)."""
        return {'RequestId': headers['x-amzn-requestid']} if 'x-amzn-requestid' in headers else {}

    def _error_response(self, status, headers, raw):
        """The parsed error answer: {'Error': {...}, 'ResponseMetadata': {...}} (the protocol's)."""
        raise NotImplementedError

    def _modeled_fields(self, code, headers, raw):
        """The members of the error's modeled shape, read from the answer (none if unmodeled)."""
        raise NotImplementedError

    def _send(self, operation, method, path, headers, body, read_body=False):
        """One call, retried as botocore retries it. Returns (status, headers, body, metadata): the body as bytes when
        read_body (or when CRC32s are checked), else its stream; metadata is the response's ResponseMetadata. An error
        answer is raised as its modeled exception."""
        mode, max_attempts = retry_policy(self.meta._config, self.LEGACY_ATTEMPTS)
        # What http.client adds to the real botocore's requests: the service receives the same request.
        headers['Accept-Encoding'] = 'identity'
        headers['User-Agent'] = _USER_AGENT
        trace = os.environ.get('_X_AMZN_TRACE_ID')
        if trace and 'AWS_LAMBDA_FUNCTION_NAME' in os.environ:
            # botocore's recursion detection: a call from a function carries its trace (a callee runs in it).
            headers['X-Amzn-Trace-Id'] = percent_encode(trace, _TRACE_SAFE)
        # Where botocore's endpoint prepares a request: a tracer that wraps it (OpenTelemetry, the X-Ray SDK) puts its
        # call's trace header in the headers, sent as botocore would send it.
        _ENDPOINT.prepare_request(PreparedRequest(method, path, headers))
        wire = {'Service': self.SERVICE, 'Operation': operation, 'Method': method, 'Path': path, 'Headers': headers}
        modeled = self._modeled_retryable(operation)
        limiter = self._rate_limiter() if mode == 'adaptive' else None
        attempt = 1
        quota_taken = None   # what this call's last retry took from the quota (standard mode)
        while True:
            if limiter is not None:
                limiter.on_sending_request()
            try:
                status, answer_headers, raw = self._exchange(wire, body)
            except (ReadTimeoutError, EndpointConnectionError) as e:
                # Retried as botocore retries a read timeout or a connection error (every mode), raised once the
                # attempts are spent or, in standard and adaptive mode, the quota is (a timeout costs it more).
                if limiter is not None:
                    limiter.on_receiving_response(throttled=False)
                if attempt >= max_attempts:
                    raise
                if mode != 'legacy':
                    cost = 10 if isinstance(e, ReadTimeoutError) else 5
                    if not self._retry_quota.acquire(cost):
                        raise
                    quota_taken = cost
                back_off(mode, attempt, self.LEGACY_BASE)
                attempt += 1
                continue
            content = None
            if status >= 300 or read_body or self.CHECKS_CRC32:
                content = raw.read()
                raw.close()
            crc_failed = self._crc32_failure(answer_headers, content)
            if status < 300:
                code = None
                parsed = {'ResponseMetadata': self._success_metadata(answer_headers)}
            else:
                parsed = generic_error(status, content) or self._error_response(status, answer_headers, content)
                code = parsed['Error']['Code']
            metadata = parsed['ResponseMetadata']
            metadata['HTTPStatusCode'] = status
            metadata['HTTPHeaders'] = answer_headers
            if limiter is not None:
                limiter.on_receiving_response(throttled=code in THROTTLING_CODES or modeled.get(code, False))
            if mode == 'legacy':
                retry = status in _LEGACY_STATUS or (status == 400 and code in _LEGACY_CODES) or \
                    (code, status) in self.LEGACY_CODES
                if crc_failed is not None:
                    if attempt >= max_attempts:
                        raise crc_failed
                    retry = True
            else:
                retry = status in STANDARD_RETRY_STATUS or code in STANDARD_RETRY_CODES or \
                    code in self.STANDARD_CODES or code in modeled or crc_failed is not None
            if attempt >= max_attempts and (retry or mode != 'legacy'):
                # Legacy mode says so when it stops retrying a retryable answer; standard mode whenever the attempts
                # are spent, even on a success, as botocore 1.29's MaxAttemptsChecker does.
                metadata['MaxAttemptsReached'] = True
                retry = False
            if retry and mode != 'legacy':
                if self._retry_quota.acquire(5):
                    quota_taken = 5
                else:
                    metadata['RetryQuotaReached'] = True
                    retry = False
            if not retry:
                break
            if content is None:
                raw.close()
            back_off(mode, attempt, self.LEGACY_BASE)
            attempt += 1
        metadata['RetryAttempts'] = attempt - 1
        if mode != 'legacy' and 200 <= status < 300:
            self._retry_quota.release(quota_taken or 1)
        if code is not None:
            parsed.update(self._modeled_fields(code, answer_headers, content))
            raise self.exceptions.from_code(code)(parsed, operation)
        return status, answer_headers, content if content is not None else raw, metadata

    def _modeled_retryable(self, operation):
        """{error code: throttling} of the operation's errors the model marks retryable (standard, adaptive modes)."""
        return {}

    def _rate_limiter(self):
        """This client's adaptive-mode rate limiter, made on its first adaptive call (botocore makes one per client)."""
        limiter = self.__dict__.get('_limiter')
        if limiter is None:
            from botocore._nexus_adaptive import ClientRateLimiter
            with _limiter_lock:
                limiter = self.__dict__.get('_limiter')
                if limiter is None:
                    limiter = self._limiter = ClientRateLimiter()
        return limiter

    def _crc32_failure(self, headers, content):
        """botocore's CRC32 check of a DynamoDB answer: the ChecksumError it raises, or None."""
        expected = headers.get('x-amz-crc32') if self.CHECKS_CRC32 else None
        if expected is None:
            return None
        actual = crc32(content) & 0xFFFFFFFF
        if actual == int(expected):
            return None
        return ChecksumError(checksum_type='crc32', expected_checksum=expected, actual_checksum=actual)

    def _exchange(self, wire, body):
        """(status, lower-case headers, raw body) of one request; a refusal of the backend's is answered as the node's
        signing proxy answers baseline's (x-amzn-ErrorType, a JSON body with __type and message)."""
        config = self.meta._config
        # botocore's read_timeout (60 s unless configured): how long the answer may take to start.
        timeout = config.read_timeout if config is not None else 60
        try:
            response = _get_transport().call('ServiceRequest', wire, body, timeout=timeout)
        except channel_errors() as e:
            raise ConnectionClosedError(
                endpoint_url=f'{self.meta.endpoint_url}{wire["Path"]} (Nexus channel: {e})') from e
        except channel_timeouts():
            raise ReadTimeoutError(endpoint_url=f'{self.meta.endpoint_url}{wire["Path"]}') from None
        meta = response.meta or {}
        if 'Headers' in meta:
            raw = response.body
            if raw is None:
                from botocore.response import _EmptyRaw
                raw = _EmptyRaw()
            return response.status, dict(meta['Headers']), raw
        if response.body is not None:
            response.body.close()
        error = meta.get('Error') or {}
        if names_no_endpoint(response.status, error):
            raise EndpointConnectionError(endpoint_url=f'{self.meta.endpoint_url}{wire["Path"]}')
        code = error.get('Code') or str(response.status)
        request_id = os.urandom(16).hex().upper()
        content_type, document = self._refusal(code, error.get('Message', ''), request_id)
        headers = {'x-amzn-requestid': request_id, 'x-amzn-errortype': code, 'content-type': content_type,
                   'content-length': str(len(document))}
        return response.status, headers, io.BytesIO(document)

    def _refusal(self, code, message, request_id):
        """(content type, body) of a refusal as the signing proxy words it for this protocol (JSON)."""
        return 'application/x-amz-json-1.0', json.dumps({'__type': code, 'message': message}).encode()

    def close(self):
        """Nothing to release per client: the channel belongs to the process."""
