# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Runs every function of the corpus (fn_*.py) once, unchanged, in whichever mode the environment gives.

The functions are written by the project in the patterns of public Lambda examples (S3-triggered processing,
presigned-URL handout, DynamoDB CRUD, multipart upload of generated files, a client with Config and retries, the
resource APIs, paginators, waiters); each has SEED (objects it expects), EVENT and handler(event, context). The
harness (tests/Nexus.Frontend.Tests, CorpusTests) runs this script with real boto3 over HTTP (baseline) and with the
stand-in over the channel (nexus) and compares the printed records.

Baseline has no node to route clients, so this driver gives clients created without endpoint_url the test's S3 store
(CORPUS_S3_ENDPOINT) and DynamoDB (CORPUS_DDB_ENDPOINT), as the node's runtime does for S3 in baseline sandboxes
(nexus_runtime/endpoint.py). In nexus mode nothing is routed here: the node does it.

  python3 run_corpus.py          reset the corpus prefix and table, seed, run every function, print {"functions": [...]}
"""

import importlib
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.join(os.path.dirname(HERE), 'difftests'))


class Context:
    function_name = 'corpus'
    aws_request_id = '00000000-0000-0000-0000-000000000000'
    memory_limit_in_mb = 256

    def get_remaining_time_in_millis(self):
        return 30000


def route_baseline_clients():
    import botocore.session
    endpoints = {'s3': os.environ['CORPUS_S3_ENDPOINT'], 'dynamodb': os.environ['CORPUS_DDB_ENDPOINT']}
    original = botocore.session.Session.create_client

    def create_client(self, service_name, *args, **kwargs):
        if service_name in endpoints and kwargs.get('endpoint_url') is None and len(args) < 5:
            kwargs['endpoint_url'] = endpoints[service_name]
        return original(self, service_name, *args, **kwargs)

    botocore.session.Session.create_client = create_client


def reset(names):
    import boto3
    s3 = boto3.client('s3')
    ddb = boto3.client('dynamodb')
    bucket, table = os.environ['CORPUS_BUCKET'], os.environ['CORPUS_TABLE']
    for page in s3.get_paginator('list_objects_v2').paginate(Bucket=bucket, Prefix='corpus/'):
        keys = [{'Key': o['Key']} for o in page.get('Contents', [])]
        if keys:
            s3.delete_objects(Bucket=bucket, Delete={'Objects': keys, 'Quiet': True})
    try:
        ddb.delete_table(TableName=table)
        ddb.get_waiter('table_not_exists').wait(TableName=table, WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
    except ddb.exceptions.ResourceNotFoundException:
        pass
    ddb.create_table(TableName=table, BillingMode='PAY_PER_REQUEST',
                     KeySchema=[{'AttributeName': 'pk', 'KeyType': 'HASH'}, {'AttributeName': 'sk', 'KeyType': 'RANGE'}],
                     AttributeDefinitions=[{'AttributeName': 'pk', 'AttributeType': 'S'},
                                           {'AttributeName': 'sk', 'AttributeType': 'S'}])
    ddb.get_waiter('table_exists').wait(TableName=table, WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
    modules = {name: importlib.import_module(name) for name in names}
    for module in modules.values():
        for key, data in module.SEED.items():
            s3.put_object(Bucket=bucket, Key=key, Body=data)
    return modules


def main():
    import json
    if os.environ.get('NEXUS_IO', 'baseline') == 'baseline':
        route_baseline_clients()
    from difftest import norm, norm_error
    names = sorted(f[:-3] for f in os.listdir(HERE) if f.startswith('fn_') and f.endswith('.py'))
    modules = reset(names)
    records = []
    for name, module in modules.items():
        try:
            records.append({'function': name, 'result': norm(module.handler(module.EVENT, Context()))})
        except Exception as e:  # every outcome is part of the record
            records.append({'function': name, 'error': norm_error(e)})
    import boto3
    print(json.dumps({'mode': os.environ.get('NEXUS_IO', 'baseline'), 'boto3_file': boto3.__file__,
                      'functions': records}, indent=1, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main())
