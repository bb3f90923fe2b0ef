# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Load JSON lines from S3 into DynamoDB with batch_writer, then count them back."""
import json
import os

import boto3
from boto3.dynamodb.conditions import Key

s3 = boto3.client('s3')
table = boto3.resource('dynamodb').Table(os.environ['CORPUS_TABLE'])
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {'corpus/import/items.jsonl': ''.join(json.dumps({'sku': f's{i}', 'qty': i}) + '\n' for i in range(40)).encode()}
EVENT = {'key': 'corpus/import/items.jsonl'}


def handler(event, context):
    lines = s3.get_object(Bucket=BUCKET, Key=event['key'])['Body'].iter_lines()
    with table.batch_writer() as batch:
        for line in lines:
            item = json.loads(line)
            batch.put_item(Item={'pk': 'sku', 'sk': item['sku'], 'qty': item['qty']})
    return table.query(KeyConditionExpression=Key('pk').eq('sku'), Select='COUNT')['Count']
