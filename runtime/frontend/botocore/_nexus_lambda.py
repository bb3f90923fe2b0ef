# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The Lambda client of the Nexus stand-in SDK: Invoke without the real botocore.

Invoke is the Lambda call functions make (and the one the node serves). It is checked as botocore 1.29 checks it,
serialized into the HTTP request botocore makes of it (path, query, headers, body), and sent as the generic path sends
a real client's request: one ServiceRequest on the channel, which the backend checks against the function's grants,
signs and sends to the node's Lambda endpoint. The answer is parsed as botocore's REST-JSON parser parses it (modeled
errors and their fields included) and retried as botocore's retry handler retries it (legacy and standard modes).
Every other method of the client is a model-read client's (_nexus_model_clients.py: Lambda's model in the image's
botocore), raising this client's exceptions; what that one leaves is the real botocore's, loaded on first use (generic
path), and so is every call of a client with event handlers registered (the real client emits botocore's events).
"""

from botocore._nexus_params import _check, _known_members
from botocore._nexus_service import ServiceClient, body_json, percent_encode, rest_json_error
from botocore.client import ServiceModel, _offloaded
from botocore.errorfactory import LAMBDA_ERROR_FIELDS, lambda_exceptions
from botocore.exceptions import ParamValidationError

# Invoke's input members in model order (botocore lists valid names in this order), with the stand-in's type codes.
_INVOKE_MEMBERS = {'FunctionName': 's', 'InvocationType': 's', 'LogType': 's', 'ClientContext': 's', 'Payload': 'B',
                   'Qualifier': 's'}
_MIN_LENGTH_ONE = ('FunctionName', 'Qualifier')
_HEADER_MEMBERS = (('InvocationType', 'X-Amz-Invocation-Type'), ('LogType', 'X-Amz-Log-Type'),
                   ('ClientContext', 'X-Amz-Client-Context'))
# Invoke's output members bound to response headers, in model order.
_OUTPUT_HEADERS = (('FunctionError', 'x-amz-function-error'), ('LogResult', 'x-amz-log-result'),
                   ('ExecutedVersion', 'x-amz-executed-version'))


# botocore 1.29's Lambda model metadata (the own client reads no model file).
_METADATA = {'apiVersion': '2015-03-31', 'endpointPrefix': 'lambda', 'protocol': 'rest-json',
             'serviceFullName': 'AWS Lambda', 'serviceId': 'Lambda', 'signatureVersion': 'v4', 'uid': 'lambda-2015-03-31'}


class Lambda(ServiceClient):
    """The Lambda client: invoke over the channel; the rest of the API through the real botocore."""

    # Where botocore's generated client classes live (handlers may compare it).
    __module__ = 'botocore.client'

    SERVICE = 'lambda'

    def __init__(self, region_name, endpoint_url, config, real_client):
        super().__init__(region_name, endpoint_url, config, real_client, ServiceModel('lambda', _METADATA),
                         {'invoke': 'Invoke'}, lambda_exceptions())

    @classmethod
    def exceptions_of_service(cls):
        return lambda_exceptions()

    def __getattr__(self, name):
        # The rest of Lambda's API (of which the node serves GetFunctionConfiguration and ListFunctions to functions)
        # from its model: a model-read client beside this one, made on first need, raising this client's exceptions;
        # the real botocore only for what that one leaves.
        if not name.startswith('_'):
            other = self._model_read()
            if other is not None and (name in other.meta.method_to_api_mapping or
                                      name in ('get_paginator', 'can_paginate', 'get_waiter', 'waiter_names')):
                return getattr(other, name)
        return super().__getattr__(name)

    def _model_read(self):
        client = self.__dict__.get('_model_read_client')
        if client is None:
            from botocore._nexus_model_clients import model_client_class
            client_class = model_client_class('lambda')
            if client_class is None:
                return None
            client = self._model_read_client = client_class(self.meta.region_name, self.meta.endpoint_url,
                                                            self.meta._config, self._real_client)
            client.exceptions = self.exceptions
        return client

    def _error_response(self, status, headers, raw):
        return rest_json_error(status, headers, raw)

    def _modeled_fields(self, code, headers, raw):
        fields = LAMBDA_ERROR_FIELDS.get(code)
        if fields is None:
            return {}
        body = body_json(raw)
        parsed = {}
        for member, header in fields:
            if header is not None:
                if header.lower() in headers:
                    parsed[member] = headers[header.lower()]
            elif body.get(member) is not None:
                parsed[member] = body[member]
        return parsed

    @_offloaded
    def invoke(self, **kwargs):
        config = self.meta._config
        if config is None or config.parameter_validation:
            errors = []
            for name in _known_members(kwargs, 'input', ('FunctionName',), _INVOKE_MEMBERS, errors):
                _check(kwargs[name], _INVOKE_MEMBERS[name], name, errors, min_one=name in _MIN_LENGTH_ONE)
            if errors:
                raise ParamValidationError(report='\n'.join(errors))
        path = f'/2015-03-31/functions/{percent_encode(str(kwargs["FunctionName"]))}/invocations'
        if 'Qualifier' in kwargs:
            path += f'?Qualifier={percent_encode(str(kwargs["Qualifier"]))}'
        headers = {header: str(kwargs[name]) for name, header in _HEADER_MEMBERS if name in kwargs}
        payload = kwargs.get('Payload', b'')
        if isinstance(payload, str):
            payload = payload.encode('utf-8')
        elif hasattr(payload, 'read'):
            payload = payload.read()
            if isinstance(payload, str):
                # A file opened in text mode: http.client sends what it reads as ISO-8859-1.
                payload = payload.encode('iso-8859-1')
        status, answer_headers, raw, metadata = self._send('Invoke', 'POST', path, headers, bytes(payload))
        parsed = {'ResponseMetadata': metadata, 'StatusCode': status}
        for member, header in _OUTPUT_HEADERS:
            if header in answer_headers:
                parsed[member] = answer_headers[header]
        from botocore.response import StreamingBody
        parsed['Payload'] = StreamingBody(raw, answer_headers.get('content-length'))
        return parsed
