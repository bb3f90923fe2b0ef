# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""An API Gateway proxy handler: GET /items/{id} from DynamoDB, 404 when absent, JSON bodies."""
import json
import os

import boto3

table = boto3.resource('dynamodb').Table(os.environ['CORPUS_TABLE'])
SEED = {}
EVENT = {'requests': [{'httpMethod': 'PUT', 'pathParameters': {'id': 'i1'}, 'body': '{"name": "lamp"}'},
                      {'httpMethod': 'GET', 'pathParameters': {'id': 'i1'}},
                      {'httpMethod': 'GET', 'pathParameters': {'id': 'nope'}}]}


def route(request):
    key = {'pk': 'item#' + request['pathParameters']['id'], 'sk': 'v1'}
    if request['httpMethod'] == 'PUT':
        table.put_item(Item=dict(key, **json.loads(request['body'])))
        return {'statusCode': 204, 'body': ''}
    item = table.get_item(Key=key).get('Item')
    if item is None:
        return {'statusCode': 404, 'body': json.dumps({'message': 'not found'})}
    return {'statusCode': 200, 'headers': {'Content-Type': 'application/json'}, 'body': json.dumps(item, sort_keys=True)}


def handler(event, context):
    return [route(r) for r in event['requests']]
