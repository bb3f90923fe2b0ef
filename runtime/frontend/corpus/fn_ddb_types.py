# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Converting between the client's attribute values and Python with boto3.dynamodb.types."""
import decimal
import os

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

ddb = boto3.client('dynamodb')
TABLE = os.environ['CORPUS_TABLE']
SEED = {}
EVENT = {'item': {'pk': 'typed', 'sk': '1', 'n': 3, 'tags': ['x'], 'price': '2.50'}}


def handler(event, context):
    item = dict(event['item'], price=decimal.Decimal(event['item']['price']))
    ddb.put_item(TableName=TABLE, Item={k: TypeSerializer().serialize(v) for k, v in item.items()})
    raw = ddb.get_item(TableName=TABLE, Key={'pk': {'S': 'typed'}, 'sk': {'S': '1'}})['Item']
    back = {k: TypeDeserializer().deserialize(v) for k, v in raw.items()}
    return {'raw_price': raw['price'], 'price': str(back['price']), 'n_type': type(back['n']).__name__}
