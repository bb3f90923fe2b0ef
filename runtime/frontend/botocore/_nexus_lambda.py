# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The Lambda client of the Nexus stand-in SDK: Invoke without the real botocore.

Invoke is the Lambda call functions make (and the one the node serves). It is checked as botocore 1.29 checks it,
serialized into the HTTP request botocore makes of it (path, query, headers, body), and sent as the generic path sends
a real client's request: one ServiceRequest on the channel, which the backend checks against the function's grants,
signs and sends to the node's Lambda endpoint. The answer is parsed as botocore's REST-JSON parser parses it (modeled
errors and their fields included) and retried as botocore's retry handler retries it (legacy and standard modes).
Every other method of the client is the real botocore's, loaded on first use (generic path), and so is every call of a
client with event handlers registered (the real client emits botocore's events).
"""

import io
import json
import os
import sys
import time

from botocore._nexus_params import _check, _known_members
from botocore.client import BaseClient, ClientMeta, _get_transport, _offloaded, channel_errors
from botocore.errorfactory import LAMBDA_ERROR_FIELDS, lambda_exceptions
from botocore.exceptions import ConnectionClosedError, ParamValidationError

# Invoke's input members in model order (botocore lists valid names in this order), with the stand-in's type codes.
_INVOKE_MEMBERS = {'FunctionName': 's', 'InvocationType': 's', 'LogType': 's', 'ClientContext': 's', 'Payload': 'B',
                   'Qualifier': 's'}
_MIN_LENGTH_ONE = ('FunctionName', 'Qualifier')
_HEADER_MEMBERS = (('InvocationType', 'X-Amz-Invocation-Type'), ('LogType', 'X-Amz-Log-Type'),
                   ('ClientContext', 'X-Amz-Client-Context'))
# Invoke's output members bound to response headers, in model order.
_OUTPUT_HEADERS = (('FunctionError', 'x-amz-function-error'), ('LogResult', 'x-amz-log-result'),
                   ('ExecutedVersion', 'x-amz-executed-version'))

_UNRESERVED = frozenset(b'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~')
# What botocore leaves unquoted in the X-Amzn-Trace-Id it copies from _X_AMZN_TRACE_ID.
_TRACE_SAFE = _UNRESERVED | frozenset(b'=;:+&[]{}"\',')

# botocore's legacy retry policy (_retry.json, __default__): statuses, and error codes retried with a 400.
_LEGACY_STATUS = frozenset((429, 500, 502, 503, 504, 509))
_LEGACY_THROTTLING = frozenset(('Throttling', 'ThrottlingException', 'ThrottledException', 'RequestThrottledException',
                                'ProvisionedThroughputExceededException'))
# botocore.retries.standard: transient statuses and codes, and the throttling codes.
_STANDARD_STATUS = frozenset((500, 502, 503, 504))
_STANDARD_CODES = frozenset((
    'RequestTimeout', 'RequestTimeoutException', 'PriorRequestNotComplete', 'Throttling', 'ThrottlingException',
    'ThrottledException', 'RequestThrottledException', 'TooManyRequestsException',
    'ProvisionedThroughputExceededException', 'TransactionInProgressException', 'RequestLimitExceeded',
    'BandwidthLimitExceeded', 'LimitExceededException', 'RequestThrottled', 'SlowDown', 'EC2ThrottledException'))

# http.client.responses for the statuses a generic 5xx error is named by (http.client is not imported here).
_REASONS = {500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable',
            504: 'Gateway Timeout', 505: 'HTTP Version Not Supported', 509: ''}


def _quote(text, safe=_UNRESERVED):
    """botocore's percent_encode: UTF-8, every byte outside ``safe`` as %XX."""
    return ''.join(chr(b) if b in safe else f'%{b:02X}' for b in text.encode('utf-8'))


class _ServiceModel:
    service_name = 'lambda'
    signing_name = 'lambda'
    api_version = '2015-03-31'
    protocol = 'rest-json'


def _retry_policy(config):
    """(mode, total attempts) as botocore resolves them: Config(retries=...), then AWS_RETRY_MODE / AWS_MAX_ATTEMPTS."""
    retries = (config.retries if config is not None else None) or {}
    mode = retries.get('mode') or os.environ.get('AWS_RETRY_MODE') or 'legacy'
    if 'total_max_attempts' in retries:
        attempts = retries['total_max_attempts']
    elif 'max_attempts' in retries:
        attempts = retries['max_attempts'] + 1
    elif os.environ.get('AWS_MAX_ATTEMPTS', '').isdigit():
        attempts = int(os.environ['AWS_MAX_ATTEMPTS'])
    else:
        attempts = 5 if mode == 'legacy' else 3
    return mode, attempts


def _body_json(raw):
    """botocore's _parse_body_as_json: {} for no body, the text as 'message' when it is not JSON."""
    if not raw:
        return {}
    text = raw.decode('utf-8')
    try:
        parsed = json.loads(text)
    except ValueError:
        return {'message': text}
    return parsed if isinstance(parsed, dict) else {}


def _error_response(status, headers, raw):
    """An error answer as botocore's REST-JSON parser reads it: Error {Message, Code}, metadata, modeled fields."""
    if status >= 500 and (not raw.strip() or raw.strip().startswith(b'<html>')):
        # A generic error page: botocore names the error by its status.
        return {'Error': {'Code': str(status), 'Message': _REASONS.get(status, '')}, 'ResponseMetadata': {}}
    body = _body_json(raw)
    error = {'Error': {'Message': body.get('message', body.get('Message', '')), 'Code': ''}, 'ResponseMetadata': {}}
    query_error = headers.get('x-amzn-query-error', '').split(';')
    code = query_error[0] if len(query_error) == 2 and query_error[0] else body.get('__type', str(status))
    if code is not None:
        error['Error']['Code'] = code.rsplit('#', 1)[-1]
    if 'x-amzn-requestid' in headers:
        error['ResponseMetadata']['RequestId'] = headers['x-amzn-requestid']
    if 'x-amzn-errortype' in headers:
        error['Error']['Code'] = headers['x-amzn-errortype'].split(':')[0]
    elif 'code' in body or 'Code' in body:
        error['Error']['Code'] = body.get('code', body.get('Code', ''))
    return error


def _request_ids(headers):
    """botocore's REST response metadata: the request id (and S3's host id) from the headers."""
    if 'x-amzn-requestid' in headers:
        return {'RequestId': headers['x-amzn-requestid']}
    if 'x-amz-request-id' in headers:
        return {'RequestId': headers['x-amz-request-id'], 'HostId': headers.get('x-amz-id-2', '')}
    return {}


def _modeled_fields(code, headers, raw):
    """The members of the error's modeled shape, read from the answer as botocore reads them (none if unmodeled)."""
    fields = LAMBDA_ERROR_FIELDS.get(code)
    if fields is None:
        return {}
    body = _body_json(raw)
    parsed = {}
    for member, header in fields:
        if header is not None:
            if header.lower() in headers:
                parsed[member] = headers[header.lower()]
        elif body.get(member) is not None:
            parsed[member] = body[member]
    return parsed


class Lambda(BaseClient):
    """The Lambda client: invoke over the channel; the rest of the API through the real botocore."""

    def __init__(self, region_name, endpoint_url, config, real_client):
        region = region_name or (config.region_name if config is not None else None) or \
            os.environ.get('AWS_DEFAULT_REGION') or os.environ.get('AWS_REGION') or 'us-east-1'
        self.meta = ClientMeta(region, endpoint_url or f'https://lambda.{region}.amazonaws.com', config, self,
                               _ServiceModel(), {'invoke': 'Invoke'})
        self.exceptions = lambda_exceptions()
        self._real_client = real_client

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(f"'Lambda' object has no attribute '{name}'")
        # Not served here: the real botocore's method, its requests sent over the channel (generic path).
        return getattr(self._generic(), name)

    def _generic(self):
        """The real botocore Lambda client behind this one (loaded on first need)."""
        real = self.__dict__.get('_real')
        if real is None:
            real = self._real = self._real_client()
        return real

    @_offloaded
    def invoke(self, **kwargs):
        config = self.meta.config
        if config is None or config.parameter_validation:
            errors = []
            for name in _known_members(kwargs, 'input', ('FunctionName',), _INVOKE_MEMBERS, errors):
                _check(kwargs[name], _INVOKE_MEMBERS[name], name, errors, min_one=name in _MIN_LENGTH_ONE)
            if errors:
                raise ParamValidationError(report='\n'.join(errors))
        path = f'/2015-03-31/functions/{_quote(str(kwargs["FunctionName"]))}/invocations'
        if 'Qualifier' in kwargs:
            path += f'?Qualifier={_quote(str(kwargs["Qualifier"]))}'
        headers = {header: str(kwargs[name]) for name, header in _HEADER_MEMBERS if name in kwargs}
        # urllib3 asks for the body as it is (the request the endpoint receives is the real botocore's).
        headers['Accept-Encoding'] = 'identity'
        headers['User-Agent'] = f'Boto3/1.26.27 Python/{sys.version.split()[0]} Botocore/1.29.27 nexus-stand-in'
        trace = os.environ.get('_X_AMZN_TRACE_ID')
        if trace and 'AWS_LAMBDA_FUNCTION_NAME' in os.environ:
            # botocore's recursion detection: the callee runs in the caller's trace.
            headers['X-Amzn-Trace-Id'] = _quote(trace, _TRACE_SAFE)
        payload = kwargs.get('Payload', b'')
        if isinstance(payload, str):
            payload = payload.encode('utf-8')
        elif hasattr(payload, 'read'):
            payload = payload.read()
        return self._send('Invoke', path, headers, bytes(payload))

    def _send(self, operation, path, headers, body):
        """One request, retried as botocore retries it; the parsed answer, or its modeled exception raised."""
        mode, max_attempts = _retry_policy(self.meta.config)
        wire = {'Service': 'lambda', 'Operation': operation, 'Method': 'POST', 'Path': path, 'Headers': headers}
        attempt = 1
        while True:
            status, answer_headers, raw = self._exchange(wire, body)
            if status < 300:
                code = None
                parsed = {'ResponseMetadata': _request_ids(answer_headers)}
            else:
                error_body = raw.read()
                raw.close()
                parsed = _error_response(status, answer_headers, error_body)
                code = parsed['Error']['Code']
            metadata = parsed['ResponseMetadata']
            metadata['HTTPStatusCode'] = status
            metadata['HTTPHeaders'] = answer_headers
            if mode == 'legacy':
                retry = status in _LEGACY_STATUS or (status == 400 and code in _LEGACY_THROTTLING)
            else:
                retry = status in _STANDARD_STATUS or code in _STANDARD_CODES
            if attempt >= max_attempts and (retry or mode != 'legacy'):
                # Legacy mode says so when it stops retrying a retryable answer; standard mode whenever the attempts
                # are spent, even on a success, as botocore 1.29's MaxAttemptsChecker does.
                metadata['MaxAttemptsReached'] = True
                retry = False
            if not retry:
                break
            if code is None:
                raw.close()
            # Exponential backoff with full jitter: rand * 2^(attempt - 1) s (standard mode: at most 20 s).
            delay = int.from_bytes(os.urandom(2), 'big') / 65536 * 2 ** (attempt - 1)
            time.sleep(delay if mode == 'legacy' else min(delay, 20))
            attempt += 1
        metadata['RetryAttempts'] = attempt - 1
        if code is not None:
            parsed.update(_modeled_fields(code, answer_headers, error_body))
            raise self.exceptions.from_code(code)(parsed, operation)
        parsed['StatusCode'] = status
        for member, header in _OUTPUT_HEADERS:
            if header in answer_headers:
                parsed[member] = answer_headers[header]
        from botocore.response import StreamingBody
        parsed['Payload'] = StreamingBody(raw, answer_headers.get('content-length'))
        return parsed

    def _exchange(self, wire, body):
        """(status, lower-case headers, raw body) of one request; a refusal of the backend's is answered as Lambda's
        REST-JSON errors are (x-amzn-ErrorType, a JSON body), as the node's signing proxy answers baseline's."""
        try:
            response = _get_transport().call('ServiceRequest', wire, body)
        except channel_errors() as e:
            raise ConnectionClosedError(
                endpoint_url=f'{self.meta.endpoint_url}{wire["Path"]} (Nexus channel: {e})') from e
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
        code = error.get('Code') or str(response.status)
        document = json.dumps({'__type': code, 'message': error.get('Message', '')}).encode()
        headers = {'x-amzn-requestid': os.urandom(16).hex().upper(), 'x-amzn-errortype': code,
                   'content-type': 'application/x-amz-json-1.0', 'content-length': str(len(document))}
        return response.status, headers, io.BytesIO(document)

    def close(self):
        """Nothing to release per client: the channel belongs to the process."""
