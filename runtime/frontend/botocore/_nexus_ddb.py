# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The DynamoDB client of the Nexus stand-in SDK: the item calls a function makes, without the real botocore.

GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan, BatchGetItem, BatchWriteItem, TransactGetItems and
TransactWriteItems are checked as botocore 1.29 checks them and serialized as its JSON protocol serializes them, from
the model's slice (_nexus_ddb_model.py, written by model_slice.py); sent as the generic path sends a request (one
ServiceRequest: the backend checks the function's grants, signs, sends to the node's DynamoDB endpoint); parsed as
botocore parses the answer (blobs decoded, modeled errors with their fields), its CRC32 checked and retried as botocore
retries DynamoDB (legacy mode: 10 attempts from 50 ms). Every other call (tables, paginators, waiters, PartiQL, ...)
is the real botocore's, loaded on first use (generic path). boto3.resource("dynamodb")'s item actions come here too,
through boto3/resources/dynamodb.py's high-level interface.
"""

import json

from botocore import _nexus_ddb_model as _model
from botocore._nexus_service import ServiceClient, body_json, json_error
from botocore._nexus_shapes import parse, serialize, validate
from botocore.client import _offloaded
from botocore.errorfactory import dynamodb_exceptions
from botocore.exceptions import ParamValidationError

_METHODS = {
    'get_item': 'GetItem', 'put_item': 'PutItem', 'update_item': 'UpdateItem', 'delete_item': 'DeleteItem',
    'query': 'Query', 'scan': 'Scan', 'batch_get_item': 'BatchGetItem', 'batch_write_item': 'BatchWriteItem',
    'transact_get_items': 'TransactGetItems', 'transact_write_items': 'TransactWriteItems',
}


class _ServiceModel:
    service_name = 'dynamodb'
    signing_name = 'dynamodb'
    api_version = _model.API_VERSION
    protocol = 'json'


class DynamoDB(ServiceClient):
    """The DynamoDB client: the item calls over the channel; the rest of the API through the real botocore."""

    # Where botocore's generated client classes live (handlers may compare it).
    __module__ = 'botocore.client'

    SERVICE = 'dynamodb'
    LEGACY_ATTEMPTS = 10
    LEGACY_BASE = 0.05
    LEGACY_CODES = frozenset(('TransactionInProgressException',))
    CHECKS_CRC32 = True

    def __init__(self, region_name, endpoint_url, config, real_client, high_level=None):
        super().__init__(region_name, endpoint_url, config, real_client, _ServiceModel(), dict(_METHODS),
                         dynamodb_exceptions())
        # A resource's client (boto3.resources.dynamodb.HighLevelInterface): Python values in and out.
        self._high_level = high_level

    def _error_response(self, status, headers, raw):
        return json_error(status, headers, raw)

    def _modeled_fields(self, code, headers, raw):
        if code not in _model.ERRORS:
            return {}
        return parse(_model.SHAPES, body_json(raw), code)

    def _call(self, operation, params):
        input_shape, output_shape = _model.OPERATIONS[operation]
        if self._high_level is not None:
            params = self._high_level.request(_model.SHAPES, input_shape, params)
        config = self.meta.config
        if config is None or config.parameter_validation:
            errors = []
            validate(_model.SHAPES, params, input_shape, errors)
            if errors:
                raise ParamValidationError(report='\n'.join(errors))
        body = json.dumps(serialize(_model.SHAPES, params, input_shape)).encode('utf-8')
        headers = {'X-Amz-Target': f'{_model.TARGET_PREFIX}.{operation}',
                   'Content-Type': f'application/x-amz-json-{_model.JSON_VERSION}'}
        _, _, content, metadata = self._send(operation, 'POST', '/', headers, body, read_body=True)
        parsed = parse(_model.SHAPES, body_json(content), output_shape)
        parsed['ResponseMetadata'] = metadata
        if self._high_level is not None:
            self._high_level.response(_model.SHAPES, output_shape, parsed)
        return parsed


def _method(name, operation):
    def call(self, **kwargs):
        return self._call(operation, kwargs)

    call.__name__ = name
    call.__doc__ = f'DynamoDB {operation}, over the Nexus channel.'
    return _offloaded(call)


for _name, _operation in _METHODS.items():
    setattr(DynamoDB, _name, _method(_name, _operation))
