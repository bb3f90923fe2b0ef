# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The DynamoDB client of the Nexus stand-in SDK: the item calls a function makes, without the real botocore.

GetItem, PutItem, UpdateItem, DeleteItem, Query, Scan, BatchGetItem, BatchWriteItem, TransactGetItems and
TransactWriteItems, from the model's slice (_nexus_ddb_model.py) as every JSON-protocol client of the stand-in
(_nexus_json.py), with what botocore does for DynamoDB besides: the answer's CRC32 checked (a mismatch retried, then
ChecksumError) and DynamoDB's legacy retries (10 attempts from 50 ms, TransactionInProgressException). Every other
call (tables, ...) and the other paginators are served from DynamoDB's whole model, read on first need (ModelClient);
waiters and what that model does not serve are the real botocore's (generic path). Query's and Scan's paginators are
botocore/paginate.py's, over this client.
boto3.resource("dynamodb")'s item actions come here too, through boto3/resources/dynamodb.py's high-level interface.
"""

from botocore import _nexus_ddb_model
from botocore._nexus_json import JsonClient, serve_operations


@serve_operations
class DynamoDB(JsonClient):
    """The DynamoDB client: the item calls over the channel; the rest of the API from the whole model (ModelClient)."""

    SERVICE = 'dynamodb'
    MODEL = _nexus_ddb_model
    LEGACY_ATTEMPTS = 10
    LEGACY_BASE = 0.05
    LEGACY_CODES = frozenset((('TransactionInProgressException', 400),))
    CHECKS_CRC32 = True

    def __init__(self, region_name, endpoint_url, config, real_client, high_level=None):
        super().__init__(region_name, endpoint_url, config, real_client)
        # A resource's client (boto3.resources.dynamodb.HighLevelInterface): Python values in and out.
        self._high_level = high_level

    def _request(self, input_shape, params):
        if self._high_level is None:
            return params
        return self._high_level.request(self.MODEL.SHAPES, input_shape, params)

    def _response(self, output_shape, parsed):
        if self._high_level is not None:
            self._high_level.response(self.MODEL.SHAPES, output_shape, parsed)
        return parsed

    def get_paginator(self, operation_name):
        """Query's and Scan's paginators over this client (its high-level interface too, for a resource's); the
        others from DynamoDB's whole model (ModelClient's)."""
        from botocore.paginate import DYNAMODB_PAGINATORS, Paginator
        model = DYNAMODB_PAGINATORS.get(operation_name)
        if model is None:
            return super().get_paginator(operation_name)
        return Paginator(getattr(self, operation_name), model)
