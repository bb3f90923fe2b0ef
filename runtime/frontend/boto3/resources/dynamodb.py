# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""What boto3.resource('dynamodb') adds to the resource factory.py makes from resources-1.json (its Table's item
actions, attributes, load, waiters, the service resource's create_table, tables, batch calls): boto3 1.26's high-level
interface on its client (HighLevelInterface: Python values in and out through TypeSerializer / TypeDeserializer, Key /
Attr conditions built into expressions with placeholders, the request's parameters copied first) and Table's
batch_writer.
"""

import copy
from collections.abc import Mapping, MutableSequence


class _ForgetfulDict(dict):
    """A deepcopy memo that keeps nothing, so an object repeated in the parameters is copied each time (as boto3)."""

    def __setitem__(self, key, value):
        pass


def _transform(shapes, shape_name, params, target, transformation):
    """boto3's ParameterTransformer: ``transformation`` applied, in place, to every value of shape ``target``."""
    shape = shapes[shape_name]
    kind = shape[0]
    if kind == 'structure':
        if not isinstance(params, Mapping):
            return
        members = {m[0]: m[1] for m in shape[2]}
        for name in params:
            if name in members:
                if members[name] == target:
                    params[name] = transformation(params[name])
                else:
                    _transform(shapes, members[name], params[name], target, transformation)
    elif kind == 'map':
        if not isinstance(params, Mapping):
            return
        for key, value in params.items():
            if shape[2] == target:
                params[key] = transformation(value)
            else:
                _transform(shapes, shape[2], params[key], target, transformation)
    elif kind == 'list':
        if not isinstance(params, MutableSequence):
            return
        for i, item in enumerate(params):
            if shape[1] == target:
                params[i] = transformation(item)
            else:
                _transform(shapes, shape[1], params[i], target, transformation)


class HighLevelInterface:
    """What boto3's DynamoDB resource does to its client's calls (boto3.dynamodb.transform), in its order."""

    def __init__(self):
        from boto3.dynamodb.conditions import ConditionExpressionBuilder
        from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
        self._builder = ConditionExpressionBuilder()
        self._serializer = TypeSerializer()
        self._deserializer = TypeDeserializer()

    def request(self, shapes, input_shape, params):
        """The parameters as the service takes them: copied, conditions built, Python values serialized."""
        from boto3.dynamodb.conditions import ConditionBase
        params = copy.deepcopy(params, memo=_ForgetfulDict())
        self._builder.reset()
        names, values = {}, {}

        def condition(is_key):
            def build(value):
                if not isinstance(value, ConditionBase):
                    return value
                built = self._builder.build_expression(value, is_key_condition=is_key)
                names.update(built.attribute_name_placeholders)
                values.update(built.attribute_value_placeholders)
                return built.condition_expression
            return build

        _transform(shapes, input_shape, params, 'ConditionExpression', condition(False))
        _transform(shapes, input_shape, params, 'KeyExpression', condition(True))
        for member, generated in (('ExpressionAttributeNames', names), ('ExpressionAttributeValues', values)):
            if member in params:
                params[member].update(generated)
            elif generated:
                params[member] = generated
        _transform(shapes, input_shape, params, 'AttributeValue', self._serializer.serialize)
        return params

    def response(self, shapes, output_shape, parsed):
        _transform(shapes, output_shape, parsed, 'AttributeValue', self._deserializer.deserialize)


def batch_writer(self, overwrite_by_pkeys=None):
    """boto3's Table.batch_writer (boto3.dynamodb.table.TableResource), injected into the Table class factory.py makes."""
    return BatchWriter(self.name, self.meta.client, overwrite_by_pkeys=overwrite_by_pkeys)


class BatchWriter:
    """boto3.dynamodb.table.BatchWriter: requests buffered and sent 25 at a time, unprocessed ones sent again."""

    def __init__(self, table_name, client, flush_amount=25, overwrite_by_pkeys=None):
        self._table_name = table_name
        self._client = client
        self._items_buffer = []
        self._flush_amount = flush_amount
        self._overwrite_by_pkeys = overwrite_by_pkeys

    def put_item(self, Item):
        self._add_request_and_process({'PutRequest': {'Item': Item}})

    def delete_item(self, Key):
        self._add_request_and_process({'DeleteRequest': {'Key': Key}})

    def _add_request_and_process(self, request):
        if self._overwrite_by_pkeys:
            new_keys = self._extract_pkey_values(request)
            for item in list(self._items_buffer):
                if self._extract_pkey_values(item) == new_keys:
                    self._items_buffer.remove(item)
        self._items_buffer.append(request)
        if len(self._items_buffer) >= self._flush_amount:
            self._flush()

    def _extract_pkey_values(self, request):
        if request.get('PutRequest'):
            return [request['PutRequest']['Item'][key] for key in self._overwrite_by_pkeys]
        if request.get('DeleteRequest'):
            return [request['DeleteRequest']['Key'][key] for key in self._overwrite_by_pkeys]
        return None

    def _flush(self):
        items_to_send = self._items_buffer[:self._flush_amount]
        self._items_buffer = self._items_buffer[self._flush_amount:]
        response = self._client.batch_write_item(RequestItems={self._table_name: items_to_send})
        unprocessed = response['UnprocessedItems'] or {}
        self._items_buffer.extend(unprocessed.get(self._table_name, []))

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_value, tb):
        while self._items_buffer:
            self._flush()
