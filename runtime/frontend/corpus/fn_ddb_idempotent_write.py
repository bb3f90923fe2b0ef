# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Idempotency with a conditional put: the second delivery of an event is recognised and skipped."""
import os

import boto3

ddb = boto3.client('dynamodb')
TABLE = os.environ['CORPUS_TABLE']
SEED = {}
EVENT = {'messageId': 'msg-123'}


def handler(event, context):
    outcomes = []
    for _ in range(2):
        try:
            ddb.put_item(TableName=TABLE, Item={'pk': {'S': 'seen#' + event['messageId']}, 'sk': {'S': '-'}},
                         ConditionExpression='attribute_not_exists(pk)')
            outcomes.append('processed')
        except ddb.exceptions.ConditionalCheckFailedException:
            outcomes.append('duplicate')
    return outcomes
