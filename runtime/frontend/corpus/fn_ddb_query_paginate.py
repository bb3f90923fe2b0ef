# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Query one partition with the paginator and a key condition from boto3.dynamodb.conditions."""
import os

import boto3
from boto3.dynamodb.conditions import Key

ddb = boto3.client('dynamodb')
table = boto3.resource('dynamodb').Table(os.environ['CORPUS_TABLE'])
SEED = {}
EVENT = {'customer': 'c-9'}


def handler(event, context):
    pk = 'cust#' + event['customer']
    with table.batch_writer() as batch:
        for i in range(23):
            batch.put_item(Item={'pk': pk, 'sk': f'order#{i:03d}', 'amount': i})
    pages = ddb.get_paginator('query').paginate(
        TableName=table.name, KeyConditionExpression='pk = :pk AND begins_with(sk, :o)',
        ExpressionAttributeValues={':pk': {'S': pk}, ':o': {'S': 'order#'}}, PaginationConfig={'PageSize': 10})
    sizes = [len(p['Items']) for p in pages]
    recent = table.query(KeyConditionExpression=Key('pk').eq(pk) & Key('sk').gte('order#020'), ScanIndexForward=False)
    return {'page_sizes': sizes, 'recent': [i['sk'] for i in recent['Items']]}
