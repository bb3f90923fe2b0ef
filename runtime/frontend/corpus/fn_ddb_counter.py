# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""An atomic counter (update_item ADD), the page-view pattern."""
import os

import boto3

table = boto3.resource('dynamodb').Table(os.environ['CORPUS_TABLE'])
SEED = {}
EVENT = {'page': '/index.html', 'hits': 5}


def handler(event, context):
    value = None
    for _ in range(event['hits']):
        value = table.update_item(Key={'pk': 'page#' + event['page'], 'sk': 'count'}, UpdateExpression='ADD hits :one',
                                  ExpressionAttributeValues={':one': 1}, ReturnValues='UPDATED_NEW')['Attributes']['hits']
    return int(value)
