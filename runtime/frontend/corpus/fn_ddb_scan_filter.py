# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A filtered scan with Attr conditions (the reporting-job pattern)."""
import os

import boto3
from boto3.dynamodb.conditions import Attr

table = boto3.resource('dynamodb').Table(os.environ['CORPUS_TABLE'])
SEED = {}
EVENT = {'min_qty': 30}


def handler(event, context):
    with table.batch_writer() as batch:
        for i in range(20):
            batch.put_item(Item={'pk': 'stock', 'sk': f'p{i:02d}', 'qty': i * 3, 'active': i % 2 == 0})
    found = table.scan(FilterExpression=Attr('qty').gte(event['min_qty']) & Attr('active').eq(True) & Attr('pk').eq('stock'))
    return sorted(item['sk'] for item in found['Items'])
