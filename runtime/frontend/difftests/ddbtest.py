# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the generic path: the same DynamoDB calls, by real boto3 (baseline) and through the channel (nexus).

Written like handler code: it imports boto3 and never asks which one it got. In
baseline mode botocore talks HTTP to the DynamoDB endpoint itself; in nexus mode
the stand-in loads the real botocore, whose requests go unsigned over the channel
to the backend, which checks the function's grants, signs and sends them to the
endpoint the node configures for dynamodb. The harness
(tests/Nexus.Frontend.Tests, GenericPathTests) compares the two records.

  python3 ddbtest.py run       every case, print {"cases": [...], ...}
  python3 ddbtest.py denied    calls outside the function's narrow grants (nexus, or baseline through the node's proxy)
  python3 ddbtest.py peek      baseline only: what the denied run left in the tables

Environment: DDBTEST_ENDPOINT (the DynamoDB endpoint: used by baseline; routed by
the node in nexus mode, which says so once in the log), AWS_DEFAULT_REGION, and
credentials in baseline (the endpoint is an independent server that accepts any).
"""

import decimal
import json
import os
import sys

import boto3
import botocore
from boto3.dynamodb.conditions import Attr, Key
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

from difftest_common import norm, norm_error

TABLE = 'dt-orders'
MISSING = 'dt-missing'
SECRET = 'dt-secret'


def client():
    # A handler that names its endpoint (local development style); in nexus mode the node routes it.
    return boto3.client('dynamodb', endpoint_url=os.environ.get('DDBTEST_ENDPOINT'),
                        config=Config(retries={'max_attempts': 1}))


def table():
    return boto3.resource('dynamodb', endpoint_url=os.environ.get('DDBTEST_ENDPOINT')).Table(TABLE)


def key(pk, sk):
    return {'pk': {'S': pk}, 'sk': {'N': str(sk)}}


CASES = []


def case(fn):
    CASES.append(fn)
    return fn


def create_table(ddb, name):
    return ddb.create_table(
        TableName=name,
        KeySchema=[{'AttributeName': 'pk', 'KeyType': 'HASH'}, {'AttributeName': 'sk', 'KeyType': 'RANGE'}],
        AttributeDefinitions=[{'AttributeName': 'pk', 'AttributeType': 'S'},
                              {'AttributeName': 'sk', 'AttributeType': 'N'}],
        BillingMode='PAY_PER_REQUEST')


# ---- tables ----

@case
def recreate_table(ddb):
    try:
        ddb.delete_table(TableName=TABLE)
        ddb.get_waiter('table_not_exists').wait(TableName=TABLE, WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
    except ddb.exceptions.ResourceNotFoundException:
        pass
    created = create_table(ddb, TABLE)
    ddb.get_waiter('table_exists').wait(TableName=TABLE, WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
    # A new random id per table, so per run: compared as present.
    created['TableDescription']['TableId'] = '<set>' if created['TableDescription'].get('TableId') else None
    return created


@case
def describe_table(ddb):
    return ddb.describe_table(TableName=TABLE)['Table']['KeySchema']


@case
def describe_missing_table(ddb):
    return ddb.describe_table(TableName=MISSING)


@case
def missing_table_modeled_class(ddb):
    try:
        ddb.get_item(TableName=MISSING, Key=key('a', 1))
    except ddb.exceptions.ResourceNotFoundException as e:
        return {'modeled': True, 'client_error': isinstance(e, ClientError), 'code': e.response['Error']['Code']}


@case
def list_tables(ddb):
    return [t for t in ddb.list_tables()['TableNames'] if t.startswith('dt-')]


# ---- items ----

@case
def put_item(ddb):
    return ddb.put_item(TableName=TABLE, Item=dict(key('a', 1), v={'S': 'first'}, n={'N': '1'}))


@case
def put_item_return_old(ddb):
    return ddb.put_item(TableName=TABLE, Item=dict(key('a', 1), v={'S': 'second'}, n={'N': '2'}),
                        ReturnValues='ALL_OLD')


@case
def get_item(ddb):
    return ddb.get_item(TableName=TABLE, Key=key('a', 1))


@case
def get_item_consistent_projection(ddb):
    return ddb.get_item(TableName=TABLE, Key=key('a', 1), ConsistentRead=True,
                        ProjectionExpression='#v', ExpressionAttributeNames={'#v': 'v'})


@case
def get_item_missing(ddb):
    return ddb.get_item(TableName=TABLE, Key=key('nope', 1))


@case
def put_item_condition_fails(ddb):
    try:
        ddb.put_item(TableName=TABLE, Item=key('a', 1), ConditionExpression='attribute_not_exists(pk)')
    except ddb.exceptions.ConditionalCheckFailedException as e:
        return {'caught_as': 'client.exceptions.ConditionalCheckFailedException', 'error': norm_error(e)}


@case
def put_item_condition_fails_as_client_error(ddb):
    try:
        ddb.put_item(TableName=TABLE, Item=key('a', 1), ConditionExpression='attribute_not_exists(pk)')
    except ClientError as e:
        return {'caught_as': 'botocore.exceptions.ClientError', 'code': e.response['Error']['Code'],
                'operation': e.operation_name}


@case
def update_item(ddb):
    return ddb.update_item(TableName=TABLE, Key=key('a', 1), UpdateExpression='SET v = :v ADD n :one',
                           ExpressionAttributeValues={':v': {'S': 'third'}, ':one': {'N': '1'}},
                           ReturnValues='UPDATED_NEW')


@case
def update_item_condition_fails(ddb):
    return ddb.update_item(TableName=TABLE, Key=key('a', 1), UpdateExpression='SET v = :v',
                           ConditionExpression='n > :big',
                           ExpressionAttributeValues={':v': {'S': 'never'}, ':big': {'N': '100'}})


@case
def update_item_bad_expression(ddb):
    return ddb.update_item(TableName=TABLE, Key=key('a', 1), UpdateExpression='SET = nonsense')


@case
def delete_item_condition_fails(ddb):
    return ddb.delete_item(TableName=TABLE, Key=key('a', 1), ConditionExpression='v = :x',
                           ExpressionAttributeValues={':x': {'S': 'other'}})


@case
def delete_item_return_old(ddb):
    return ddb.delete_item(TableName=TABLE, Key=key('a', 1), ReturnValues='ALL_OLD')


@case
def put_item_invalid_parameters(ddb):
    return ddb.put_item(TableName=TABLE, Item={'pk': 'not an attribute value'})


@case
def put_item_missing_key_attribute(ddb):
    return ddb.put_item(TableName=TABLE, Item={'pk': {'S': 'x'}})


@case
def batch_write(ddb):
    requests = [{'PutRequest': {'Item': dict(key('b', i), v={'S': f'item {i}'})}} for i in range(25)]
    first = ddb.batch_write_item(RequestItems={TABLE: requests})
    second = ddb.batch_write_item(RequestItems={TABLE: [
        {'PutRequest': {'Item': dict(key('c', i), v={'S': f'c {i}'})}} for i in range(5)]
        + [{'DeleteRequest': {'Key': key('b', 24)}}]})
    return [first, second]


@case
def batch_write_too_many(ddb):
    return ddb.batch_write_item(RequestItems={TABLE: [{'PutRequest': {'Item': key('d', i)}} for i in range(26)]})


@case
def batch_get(ddb):
    got = ddb.batch_get_item(RequestItems={TABLE: {'Keys': [key('b', 1), key('b', 2), key('c', 0)]}})
    got['Responses'][TABLE].sort(key=lambda item: (item['pk']['S'], int(item['sk']['N'])))
    return got


@case
def query(ddb):
    return ddb.query(TableName=TABLE, KeyConditionExpression='pk = :pk AND sk BETWEEN :lo AND :hi',
                     ExpressionAttributeValues={':pk': {'S': 'b'}, ':lo': {'N': '3'}, ':hi': {'N': '7'}},
                     ScanIndexForward=False)


@case
def query_limit_and_resume(ddb):
    first = ddb.query(TableName=TABLE, KeyConditionExpression='pk = :pk',
                      ExpressionAttributeValues={':pk': {'S': 'b'}}, Limit=3)
    second = ddb.query(TableName=TABLE, KeyConditionExpression='pk = :pk',
                       ExpressionAttributeValues={':pk': {'S': 'b'}}, Limit=3,
                       ExclusiveStartKey=first['LastEvaluatedKey'])
    return [first, second]


@case
def query_paginator(ddb):
    pages = ddb.get_paginator('query').paginate(
        TableName=TABLE, KeyConditionExpression='pk = :pk', ExpressionAttributeValues={':pk': {'S': 'b'}},
        PaginationConfig={'PageSize': 7})
    return [[item['sk']['N'] for item in page['Items']] for page in pages]


@case
def scan_paginator_max_items(ddb):
    result = ddb.get_paginator('scan').paginate(TableName=TABLE, PaginationConfig={'MaxItems': 10, 'PageSize': 4})
    full = result.build_full_result()
    return {'count': len(full['Items']), 'has_token': 'NextToken' in full}


@case
def scan_filter_count(ddb):
    return ddb.scan(TableName=TABLE, Select='COUNT', FilterExpression='begins_with(v, :p)',
                    ExpressionAttributeValues={':p': {'S': 'c '}})


@case
def transact_write_condition_fails(ddb):
    return ddb.transact_write_items(TransactItems=[
        {'Put': {'TableName': TABLE, 'Item': key('t', 1)}},
        {'ConditionCheck': {'TableName': TABLE, 'Key': key('b', 1), 'ConditionExpression': 'attribute_not_exists(pk)'}},
    ])


# ---- the resource API ----

@case
def resource_put_get(_):
    orders = table()
    orders.put_item(Item={'pk': 'r', 'sk': 1, 'price': decimal.Decimal('12.50'), 'tags': {'x', 'y'},
                          'nested': {'list': [1, 'two', None, True]}})
    item = orders.get_item(Key={'pk': 'r', 'sk': 1})['Item']
    item['tags'] = sorted(item['tags'])
    return {'item': json.loads(json.dumps(item, default=str)), 'types': sorted(type(v).__name__ for v in item.values())}


@case
def resource_query_conditions(_):
    orders = table()
    result = orders.query(KeyConditionExpression=Key('pk').eq('b') & Key('sk').between(2, 12),
                          FilterExpression=Attr('v').begins_with('item 1') | Attr('v').eq('item 2'))
    return [str(item['sk']) for item in result['Items']]


@case
def resource_update_condition_fails(_):
    return table().update_item(Key={'pk': 'r', 'sk': 1}, UpdateExpression='SET price = :p',
                               ConditionExpression=Attr('price').lt(1), ExpressionAttributeValues={':p': 3})


@case
def resource_batch_writer(_):
    orders = table()
    with orders.batch_writer() as batch:
        for i in range(30):
            batch.put_item(Item={'pk': 'w', 'sk': i, 'v': f'w{i}'})
    return orders.query(KeyConditionExpression=Key('pk').eq('w'), Select='COUNT')['Count']


@case
def resource_table_attributes(_):
    orders = table()
    return {'name': orders.name, 'key_schema': orders.key_schema, 'status': orders.table_status}


@case
def resource_needs_a_condition(_):
    return table().query(KeyConditionExpression='not a condition object or string?')


# ---- validation and errors raised in the sandbox ----

@case
def param_validation(ddb):
    try:
        ddb.get_item(Key=key('a', 1))
    except ParamValidationError as e:
        return {'caught_as': 'ParamValidationError', 'message': str(e)}


@case
def unknown_method(ddb):
    return ddb.get_object(Bucket='x', Key='y')


def run_case(fn, ddb):
    try:
        return {'case': fn.__name__, 'result': norm(fn(ddb))}
    except Exception as e:  # every outcome, error or not, is part of the record
        return {'case': fn.__name__, 'error': norm_error(e)}


def denied(ddb):
    """With grants [GetItem, PutItem, Query] on table/dt-orders: what lies outside them is refused (nexus mode, and
    baseline through the node's signing proxy)."""
    calls = {
        'get_granted': lambda: ddb.get_item(TableName=TABLE, Key=key('g', 1)),
        'put_other_table': lambda: ddb.put_item(TableName=SECRET, Item=key('leak', 1)),
        'delete_granted_table': lambda: ddb.delete_item(TableName=TABLE, Key=key('g', 1)),
        'batch_write_mixed': lambda: ddb.batch_write_item(RequestItems={
            TABLE: [{'PutRequest': {'Item': key('g', 2)}}], SECRET: [{'PutRequest': {'Item': key('leak', 2)}}]}),
        'list_tables': lambda: ddb.list_tables(),
        # Named endpoint: baseline (through the node's signing proxy) sends it there; nexus mode routes it.
        'sqs_not_configured': lambda: boto3.client('sqs', endpoint_url=os.environ.get('DDBTEST_ENDPOINT')).list_queues(),
    }
    out = {}
    for name, call in calls.items():
        try:
            out[name] = {'result': norm(call())}
        except Exception as e:
            out[name] = {'error': norm_error(e)}
    return out


def peek(ddb):
    return {'secret_items': ddb.scan(TableName=SECRET)['Count'],
            'orders_g2': 'Item' in ddb.get_item(TableName=TABLE, Key=key('g', 2))}


def main(argv):
    command = argv[1] if len(argv) > 1 else 'run'
    ddb = client()
    if command == 'setup':
        # Baseline, before both runs: the table the denied run must not reach, and an item it may read.
        for name in (SECRET, TABLE):
            try:
                create_table(ddb, name)
                ddb.get_waiter('table_exists').wait(TableName=name, WaiterConfig={'Delay': 1, 'MaxAttempts': 30})
            except ddb.exceptions.ResourceInUseException:
                pass
        ddb.put_item(TableName=TABLE, Item=dict(key('g', 1), v={'S': 'granted'}))
        print(json.dumps({'setup': 'ok'}))
        return 0
    if command == 'denied':
        print(json.dumps(denied(ddb), indent=1, sort_keys=True))
        return 0
    if command == 'peek':
        print(json.dumps(peek(ddb), sort_keys=True))
        return 0
    records = [run_case(fn, ddb) for fn in CASES]
    print(json.dumps({'mode': os.environ.get('NEXUS_IO', 'baseline'), 'boto3_file': boto3.__file__,
                      'botocore_file': botocore.__file__, 'cases': records}, indent=1, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
