# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""CSV in S3 to a JSON summary in S3 (a common ETL handler)."""
import csv
import io
import json
import os

import boto3

s3 = boto3.client('s3')
BUCKET = os.environ['CORPUS_BUCKET']
SEED = {'corpus/data/sales.csv': b'region,amount\nnorth,10\nsouth,25\nnorth,7\neast,3\n'}
EVENT = {'key': 'corpus/data/sales.csv'}


def handler(event, context):
    text = s3.get_object(Bucket=BUCKET, Key=event['key'])['Body'].read().decode('utf-8')
    totals = {}
    for row in csv.DictReader(io.StringIO(text)):
        totals[row['region']] = totals.get(row['region'], 0) + int(row['amount'])
    s3.put_object(Bucket=BUCKET, Key='corpus/data/sales.json', Body=json.dumps(totals, sort_keys=True),
                  ContentType='application/json')
    return json.loads(s3.get_object(Bucket=BUCKET, Key='corpus/data/sales.json')['Body'].read())
