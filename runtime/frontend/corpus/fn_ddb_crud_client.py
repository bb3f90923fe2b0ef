# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""DynamoDB CRUD with the low-level client (put, get, update, delete)."""
import os

import boto3

ddb = boto3.client('dynamodb')
TABLE = os.environ['CORPUS_TABLE']
SEED = {}
EVENT = {'id': 'user-1'}


def handler(event, context):
    key = {'pk': {'S': event['id']}, 'sk': {'S': 'profile'}}
    ddb.put_item(TableName=TABLE, Item=dict(key, name={'S': 'Ada'}, visits={'N': '0'}))
    updated = ddb.update_item(TableName=TABLE, Key=key, UpdateExpression='SET #n = :n ADD visits :one',
                              ExpressionAttributeNames={'#n': 'name'},
                              ExpressionAttributeValues={':n': {'S': 'Ada L.'}, ':one': {'N': '1'}},
                              ReturnValues='ALL_NEW')['Attributes']
    got = ddb.get_item(TableName=TABLE, Key=key, ConsistentRead=True)['Item']
    old = ddb.delete_item(TableName=TABLE, Key=key, ReturnValues='ALL_OLD')['Attributes']
    return {'updated': updated, 'got': got, 'deleted': old, 'gone': 'Item' not in ddb.get_item(TableName=TABLE, Key=key)}
