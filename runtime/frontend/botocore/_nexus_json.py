# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's model-driven clients: each call checked as botocore 1.29 checks it (ParamValidator's checks and
messages) from a model slice (model_slice.py), an idempotency token filled as botocore fills it, encoded by the
service's protocol, sent as one ServiceRequest, its answer decoded and its errors raised as their modeled classes,
retried as botocore retries. An operation a curated slice lacks is served from the service's whole model, read on
first need (the model-read client's, _nexus_model_clients.py), and so are paginators; what that does not serve is the
real botocore's, loaded on first use (generic path). The JSON protocol is here (X-Amz-Target,
application/x-amz-json-*); the query protocol is in _nexus_query.py, the REST-JSON one in _nexus_rest.py.

Served: botocore.client.OWN_CLIENTS names each client and its module.
"""

import json

from botocore import xform_name
from botocore._nexus_model_reader import NO_INPUT
from botocore._nexus_service import ServiceClient, body_json, json_error
from botocore._nexus_shapes import parse, serialize, validate
from botocore.client import ServiceModel, _offloaded
from botocore.errorfactory import modeled_exceptions
from botocore.exceptions import ParamValidationError


class ModelClient(ServiceClient):
    """A client over a model slice (MODEL, a _nexus_*_model module); subclasses encode and decode its protocol."""

    MODEL = None

    def __init__(self, region_name, endpoint_url, config, real_client):
        model = self.MODEL
        methods = {xform_name(operation): operation for operation in model.OPERATIONS}
        super().__init__(region_name, endpoint_url, config, real_client, ServiceModel(model.SERVICE, model.METADATA),
                         methods, self.exceptions_of_service())

    @classmethod
    def exceptions_of_service(cls):
        return modeled_exceptions(cls.__name__, cls.MODEL.ERRORS, cls.MODEL.ERROR_CODES)

    def __getattr__(self, name):
        method = None if name.startswith('_') else self._whole_model_method(name)
        return method if method is not None else super().__getattr__(name)

    @property
    def waiter_names(self):
        return sorted(xform_name(name) for name in self._waiter_configs())

    def get_waiter(self, waiter_name):
        """The service's waiter from its waiters-2.json (botocore/waiter.py), its operation this client's method."""
        configs = {xform_name(name): name for name in self._waiter_configs()}
        if waiter_name not in configs:
            raise ValueError(f'Waiter does not exist: {waiter_name}')
        import importlib.util
        if importlib.util.find_spec('jmespath') is None:
            # Path matchers need it (the function image has it beside the real SDK); else the real botocore's waiter.
            return self._generic().get_waiter(waiter_name)
        from botocore.waiter import waiter_class
        name = configs[waiter_name]
        config = self._waiter_configs()[name]
        return waiter_class(type(self).__name__, name)(name, config, getattr(self, xform_name(config['operation'])))

    def _waiter_configs(self):
        """{waiter: configuration} of the service's waiters-2.json (read once per process), {} without one."""
        from botocore._nexus_sdk_data import waiter_configs
        return waiter_configs(self.SERVICE)

    def can_paginate(self, operation_name):
        from botocore._nexus_model_clients import model_client_class
        whole = model_client_class(self.SERVICE)
        return operation_name in whole.PAGEABLE if whole is not None else self._generic().can_paginate(operation_name)

    def get_paginator(self, operation_name):
        """The stand-in's paginator where the service's paginators-1.json reads top-level members only (of the whole
        model, read on this first need for a curated client), else the real botocore's."""
        from botocore._nexus_model_clients import model_client_class
        whole = model_client_class(self.SERVICE)
        model = whole.PAGINATORS.get(operation_name) if whole is not None else None
        if model is None:
            return self._generic().get_paginator(operation_name)
        from botocore.paginate import Paginator
        return Paginator(getattr(self, operation_name), model)

    def _whole_model_method(self, name):
        """An operation outside a curated slice, served from the service's whole model (a model-read client's, read
        on this first need) before the real botocore is; None when that model does not serve it either."""
        from botocore._nexus_model_clients import model_client_class
        whole = model_client_class(self.SERVICE)
        if whole is None or name not in whole.MODEL.METHODS:
            return None
        if self.MODEL is not whole.MODEL:
            # This client reads the whole model from now on: a superset of its slice, the same shapes under the same
            # names, so its own calls are unchanged.
            self.MODEL = whole.MODEL
            self.meta.method_to_api_mapping.update(whole.MODEL.METHODS)
        method = self.__dict__[name] = _method(name, whole.MODEL.METHODS[name]).__get__(self)
        return method

    def _error_shape(self, code):
        """The modeled error shape of an error code, or None."""
        model = self.MODEL
        return model.ERROR_CODES.get(code) or (code if code in model.ERRORS else None)

    def _modeled_retryable(self, operation):
        return self.MODEL.RETRYABLE.get(operation, {})

    def _request(self, input_shape, params):
        """The parameters as sent (a subclass may transform them first)."""
        return params

    def _response(self, output_shape, parsed):
        """The parsed answer as returned (a subclass may transform it)."""
        return parsed

    def _encode(self, operation, input_shape, params):
        """(method, path with query, headers, body) of the call's request."""
        raise NotImplementedError

    def _reads_body(self, output_shape):
        """Whether the answer's body is read whole before _decode (else _decode gets its stream)."""
        return True

    def _decode(self, status, headers, content, output_shape, wrapper):
        """The answer's members as botocore parses them."""
        raise NotImplementedError

    def _call(self, operation, params):
        model = self.MODEL
        if any(member in params for member in model.GENERIC_WHEN.get(operation, ())):
            # The member chooses botocore's endpoint (and its signing): the real botocore makes this call.
            return getattr(self._generic(), xform_name(operation))(**params)
        input_shape, output_shape, tokens, wrapper = model.OPERATIONS[operation]
        if input_shape == NO_INPUT:
            params = {}   # botocore neither checks nor sends what a call without an input shape is given
        for member, alias in getattr(model, 'ALIASES', {}).get(operation, ()):
            # botocore's ParameterAlias: the alias given is the member's value; both given is an error.
            if alias in params:
                if member in params:
                    from botocore.exceptions import AliasConflictParameterError
                    raise AliasConflictParameterError(original=member, alias=alias, operation=operation)
                params[member] = params.pop(alias)
        params = self._request(input_shape, params)
        for token in tokens:
            if token not in params:
                # botocore's generate_idempotent_uuid: a retried call is the same request.
                import uuid
                params[token] = str(uuid.uuid4())
        config = self.meta._config
        if config is None or config.parameter_validation:
            errors = []
            validate(model.SHAPES, params, input_shape, errors)
            if errors:
                raise ParamValidationError(report='\n'.join(errors))
        method, path, headers, body = self._encode(operation, input_shape, params)
        status, answer_headers, content, metadata = self._send(operation, method, path, headers, body,
                                                               read_body=self._reads_body(output_shape))
        parsed = self._decode(status, answer_headers, content, output_shape, wrapper)
        parsed['ResponseMetadata'] = {**parsed.get('ResponseMetadata', {}), **metadata}
        return self._response(output_shape, parsed)


class JsonClient(ModelClient):
    """A JSON-protocol client: X-Amz-Target names the operation, the body is the parameters as JSON."""

    def _error_response(self, status, headers, raw):
        return json_error(status, headers, raw)

    def _modeled_fields(self, code, headers, raw):
        shape = self._error_shape(code)
        return {} if shape is None else parse(self.MODEL.SHAPES, body_json(raw), shape)

    def _encode(self, operation, input_shape, params):
        model = self.MODEL
        headers = {'X-Amz-Target': f'{model.TARGET_PREFIX}.{operation}',
                   'Content-Type': f'application/x-amz-json-{model.JSON_VERSION}'}
        return 'POST', '/', headers, json.dumps(serialize(model.SHAPES, params, input_shape)).encode('utf-8')

    def _decode(self, status, headers, content, output_shape, wrapper):
        if output_shape is None:
            return {}
        return parse(self.MODEL.SHAPES, body_json(content), output_shape)


def serve_operations(cls):
    """Gives a ModelClient class one method per operation of its model slice (botocore's names), and its endpoint's
    prefix."""
    cls.ENDPOINT_PREFIX = cls.MODEL.ENDPOINT_PREFIX
    for operation in cls.MODEL.OPERATIONS:
        method = _method(xform_name(operation), operation)
        setattr(cls, method.__name__, method)
    # Where botocore's generated client classes live (handlers may compare it).
    cls.__module__ = 'botocore.client'
    return cls


def _method(name, operation):
    def call(self, **kwargs):
        return self._call(operation, kwargs)

    call.__name__ = name
    call.__doc__ = f'{operation}, over the Nexus channel.'
    return _offloaded(call)
