# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""DynamoDB CRUD with the resource API's Table (Python types in and out)."""
import decimal
import os

import boto3

table = boto3.resource('dynamodb').Table(os.environ['CORPUS_TABLE'])
SEED = {}
EVENT = {'order': 'o-42'}


def handler(event, context):
    key = {'pk': 'order#' + event['order'], 'sk': 'meta'}
    table.put_item(Item=dict(key, total=decimal.Decimal('19.99'), lines=['a', 'b'], paid=False))
    table.update_item(Key=key, UpdateExpression='SET paid = :t', ExpressionAttributeValues={':t': True})
    item = table.get_item(Key=key)['Item']
    return {'total': str(item['total']), 'lines': item['lines'], 'paid': item['paid']}
