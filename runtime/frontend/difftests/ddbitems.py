# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the stand-in's DynamoDB client: item calls only, by real boto3 (baseline) and by the stand-in
(nexus), which serves them without loading the real botocore.

Written like handler code. Every attribute type (blobs and blob sets travel as base64), nested maps and lists, each
item operation, modeled and unmodeled errors (a transaction's cancellation reasons, with their items), and botocore's
parameter checks at every depth. The record names the modules loaded after the cases: in nexus mode no real botocore.

  python3 ddbitems.py run     (after `ddbtest.py setup`: the table exists)

Environment: as ddbtest.py (DDBTEST_ENDPOINT, AWS_DEFAULT_REGION, credentials in baseline).
"""

import io
import os
import sys

import boto3
from botocore.config import Config

from difftest_common import case_list, norm_error, print_suite

TABLE = 'dt-orders'
MISSING = 'dt-missing'


def client(**options):
    return boto3.client('dynamodb', endpoint_url=os.environ.get('DDBTEST_ENDPOINT'),
                        config=Config(retries={'max_attempts': 1}, **options))


def key(pk, sk):
    return {'pk': {'S': pk}, 'sk': {'N': str(sk)}}


EVERY_TYPE = {
    's': {'S': 'text é'}, 'n': {'N': '-12.50'}, 'b': {'B': b'\x00\x01\xfe\xff'}, 'ss': {'SS': ['x', 'y']},
    'ns': {'NS': ['1', '2.5']}, 'bs': {'BS': [b'\x01', b'\x02\x03']}, 'null': {'NULL': True}, 'bool': {'BOOL': False},
    'm': {'M': {'inner': {'L': [{'S': 'a'}, {'N': '1'}, {'B': b'\x10'}, {'M': {'deep': {'BS': [b'\x7f']}}}]}}},
    'l': {'L': []},
}

CASES, case = case_list()


@case
def put_every_type(ddb):
    return ddb.put_item(TableName=TABLE, Item=dict(key('types', 1), **EVERY_TYPE), ReturnConsumedCapacity='TOTAL')


@case
def get_every_type(ddb):
    return ddb.get_item(TableName=TABLE, Key=key('types', 1), ConsistentRead=True)


@case
def blobs_given_as_text_and_bytearray(ddb):
    ddb.put_item(TableName=TABLE, Item=dict(key('types', 2), b={'B': 'text as a blob'}, bs={'BS': [bytearray(b'ba')]}))
    return ddb.get_item(TableName=TABLE, Key=key('types', 2))['Item']


@case
def update_returning_new_values(ddb):
    return ddb.update_item(TableName=TABLE, Key=key('types', 1), UpdateExpression='SET #b = :b, n = n + :one',
                           ExpressionAttributeNames={'#b': 'b'},
                           ExpressionAttributeValues={':b': {'B': b'\xca\xfe'}, ':one': {'N': '1'}},
                           ReturnValues='UPDATED_NEW')


@case
def delete_returning_old_values(ddb):
    ddb.put_item(TableName=TABLE, Item=dict(key('types', 3), v={'S': 'gone soon'}))
    return ddb.delete_item(TableName=TABLE, Key=key('types', 3), ReturnValues='ALL_OLD')


@case
def query_pages(ddb):
    for i in range(5):
        ddb.put_item(TableName=TABLE, Item=dict(key('q', i), v={'B': bytes([i])}))
    first = ddb.query(TableName=TABLE, KeyConditionExpression='pk = :pk', ExpressionAttributeValues={':pk': {'S': 'q'}},
                      Limit=2, ScanIndexForward=False)
    rest = ddb.query(TableName=TABLE, KeyConditionExpression='pk = :pk', ExpressionAttributeValues={':pk': {'S': 'q'}},
                     ExclusiveStartKey=first['LastEvaluatedKey'], ScanIndexForward=False)
    return [first, rest]


@case
def scan_filtered_count(ddb):
    return ddb.scan(TableName=TABLE, FilterExpression='pk = :pk', ExpressionAttributeValues={':pk': {'S': 'q'}},
                    Select='COUNT')


@case
def batch_write_and_get(ddb):
    written = ddb.batch_write_item(RequestItems={TABLE: [
        {'PutRequest': {'Item': dict(key('batch', i), v={'BS': [bytes([i, i])]})}} for i in range(3)]
        + [{'DeleteRequest': {'Key': key('q', 0)}}]})
    got = ddb.batch_get_item(RequestItems={TABLE: {'Keys': [key('batch', i) for i in range(3)],
                                                   'ProjectionExpression': 'v, sk'}})
    got['Responses'][TABLE].sort(key=lambda item: int(item['sk']['N']))
    return [written, got]


@case
def transact_write_and_get(ddb):
    written = ddb.transact_write_items(TransactItems=[
        {'Put': {'TableName': TABLE, 'Item': dict(key('tx', 1), v={'B': b'\x01'})}},
        {'Update': {'TableName': TABLE, 'Key': key('tx', 2), 'UpdateExpression': 'SET v = :v',
                    'ExpressionAttributeValues': {':v': {'L': [{'B': b'\x02'}]}}}},
    ])
    got = ddb.transact_get_items(TransactItems=[{'Get': {'TableName': TABLE, 'Key': key('tx', i)}} for i in (1, 2)])
    return [written, got]


@case
def transaction_cancelled(ddb):
    return ddb.transact_write_items(TransactItems=[
        {'Put': {'TableName': TABLE, 'Item': key('tx', 3)}},
        {'ConditionCheck': {'TableName': TABLE, 'Key': key('tx', 1), 'ConditionExpression': 'attribute_not_exists(pk)',
                            'ReturnValuesOnConditionCheckFailure': 'ALL_OLD'}},
    ])


@case
def condition_fails_as_modeled(ddb):
    try:
        ddb.put_item(TableName=TABLE, Item=key('types', 1), ConditionExpression='attribute_not_exists(pk)')
    except ddb.exceptions.ConditionalCheckFailedException as e:
        return {'caught_as': 'client.exceptions.ConditionalCheckFailedException', 'error': norm_error(e)}


@case
def bad_expression(ddb):
    return ddb.update_item(TableName=TABLE, Key=key('tx', 1), UpdateExpression='SET = nonsense')


@case
def missing_table(ddb):
    return ddb.get_item(TableName=MISSING, Key=key('a', 1))


@case
def checked_at_every_depth(ddb):
    return ddb.put_item(TableName='ab', Item={'pk': {'S': 1}, 'sk': {'X': '1'}, 7: {'N': '1'}, 'l': {'L': ({'S': 'a'}, 'b')},
                                               'm': {'M': []}, 'b': {'B': 3}}, Bogus=True, ReturnValues=None)


@case
def checked_lists_and_numbers(ddb):
    return ddb.batch_write_item(RequestItems={TABLE: [], 'other': 'x'}, ReturnItemCollectionMetrics=5)


@case
def limit_below_its_minimum(ddb):
    return ddb.query(TableName=TABLE, KeyConditionExpression='pk = :pk', ExpressionAttributeValues={':pk': {'S': 'q'}},
                     Limit=0)


@case
def required_members_nested(ddb):
    return ddb.transact_write_items(TransactItems=[{'Put': {'Item': key('tx', 9)}}, {}])


@case
def validation_off_sends_what_it_is_given(ddb):
    return client(parameter_validation=False).get_item(TableName=TABLE, Key=key('tx', 1), ConsistentRead='yes')


@case
def positional_arguments(ddb):
    return ddb.get_item(TABLE)


@case
def a_file_as_a_blob(ddb):
    return ddb.put_item(TableName=TABLE, Item=dict(key('types', 4), b={'B': io.BytesIO(b'file')}))


def table():
    return boto3.resource('dynamodb', endpoint_url=os.environ.get('DDBTEST_ENDPOINT')).Table(TABLE)


@case
def resource_python_values(_):
    from decimal import Decimal
    from boto3.dynamodb.types import Binary
    orders = table()
    orders.put_item(Item={'pk': 'res', 'sk': 1, 'price': Decimal('9.99'), 'blob': Binary(b'\x00'), 'raw': b'\x01',
                          'tags': {'a', 'b'}, 'ns': {1, 2}, 'bs': {b'\x02'}, 'nested': {'l': [1, 'x', None, False]}})
    item = orders.get_item(Key={'pk': 'res', 'sk': 1}, ConsistentRead=True)['Item']
    return {name: [type(value).__name__, sorted(map(repr, value)) if isinstance(value, set) else repr(value)]
            for name, value in sorted(item.items())}


@case
def resource_conditions(_):
    from boto3.dynamodb.conditions import Attr, Key
    orders = table()
    with orders.batch_writer(overwrite_by_pkeys=['pk', 'sk']) as batch:
        for i in range(30):
            batch.put_item(Item={'pk': 'rc', 'sk': i % 28, 'v': f'v{i}'})
    page = orders.query(KeyConditionExpression=Key('pk').eq('rc') & Key('sk').between(3, 20),
                        FilterExpression=Attr('v').begins_with('v1') | Attr('v').is_in(['v3', 'v29']),
                        ScanIndexForward=False)
    failed = None
    try:
        orders.update_item(Key={'pk': 'rc', 'sk': 1}, UpdateExpression='SET v = :v', ConditionExpression=Attr('v').eq('no'),
                           ExpressionAttributeValues={':v': 'new'})
    except orders.meta.client.exceptions.ConditionalCheckFailedException as e:
        failed = e.response['Error']['Code']
    return {'items': [[str(i['sk']), i['v']] for i in page['Items']], 'count': page['Count'], 'failed': failed}


@case
def resource_key_condition_refused(_):
    from boto3.dynamodb.conditions import Attr
    return table().query(KeyConditionExpression=Attr('pk').eq('rc'))


@case
def resource_float_refused(_):
    return table().put_item(Item={'pk': 'f', 'sk': 1, 'x': 1.5})


def partition(ddb, pk, count):
    with_items = [{'PutRequest': {'Item': dict(key(pk, i), v={'S': f'item {i}'})}} for i in range(count)]
    ddb.batch_write_item(RequestItems={TABLE: with_items})
    return {'TableName': TABLE, 'KeyConditionExpression': 'pk = :pk', 'ExpressionAttributeValues': {':pk': {'S': pk}}}


@case
def paginate_query(ddb):
    query = partition(ddb, 'pg', 5)
    return list(ddb.get_paginator('query').paginate(**query, PaginationConfig={'PageSize': 2}))


@case
def paginate_max_items_and_resume(ddb):
    """MaxItems cuts a page (the token remembers where), StartingToken resumes there."""
    query = partition(ddb, 'pr', 7)
    pages = ddb.get_paginator('query').paginate(**query, PaginationConfig={'PageSize': 3, 'MaxItems': 4})
    first = list(pages)
    resumed = ddb.get_paginator('query').paginate(**query, PaginationConfig={'StartingToken': pages.resume_token})
    return {'first': first, 'token': pages.resume_token, 'resumed': list(resumed)}


@case
def paginate_full_result(ddb):
    query = partition(ddb, 'pf', 5)
    paginator = ddb.get_paginator('query')
    whole = paginator.paginate(**query, PaginationConfig={'PageSize': 2}).build_full_result()
    capped = paginator.paginate(**query, ReturnConsumedCapacity='TOTAL',
                                PaginationConfig={'PageSize': 2, 'MaxItems': 3}).build_full_result()
    return {'whole': whole, 'capped': capped}


@case
def paginate_scan_counts(ddb):
    partition(ddb, 'ps', 4)
    pages = ddb.get_paginator('scan').paginate(TableName=TABLE, Select='COUNT', FilterExpression='pk = :pk',
                                               ExpressionAttributeValues={':pk': {'S': 'ps'}},
                                               PaginationConfig={'PageSize': 3})
    return {'pages': list(pages), 'result_keys': [str(k) for k in pages.result_keys]}


@case
def paginate_by_result_keys(ddb):
    query = partition(ddb, 'pi', 3)
    items, counts, scanned = ddb.get_paginator('query').paginate(
        **query, PaginationConfig={'PageSize': 2}).result_key_iters()
    return [list(items), list(counts), list(scanned)]


@case
def paginate_resource_client(_):
    from boto3.dynamodb.conditions import Key
    pages = table().meta.client.get_paginator('query').paginate(
        TableName=TABLE, KeyConditionExpression=Key('pk').eq('pg'), PaginationConfig={'PageSize': 4})
    return [[(item['pk'], str(item['sk']), item['v']) for item in page['Items']] for page in pages]


@case
def which_calls_paginate(ddb):
    return {name: ddb.can_paginate(name) for name in ('query', 'scan', 'list_tables', 'get_item', 'batch_get_item')}


@case
def client_shape(ddb):
    return {'class': type(ddb).__name__, 'module': type(ddb).__module__, 'service': ddb.meta.service_model.service_name,
            'exceptions_class': type(ddb.exceptions).__name__,
            'modeled': sorted(name for name in dir(ddb.exceptions) if name.endswith('Exception'))[:5]}


def clean(ddb):
    """The items an earlier run left (the other mode's), so both runs start from the same table."""
    keys = [{'pk': item['pk'], 'sk': item['sk']} for item in ddb.scan(TableName=TABLE, ConsistentRead=True)['Items']]
    for start in range(0, len(keys), 25):
        ddb.batch_write_item(RequestItems={TABLE: [{'DeleteRequest': {'Key': k}} for k in keys[start:start + 25]]})


@case
def paginate_list_tables(ddb):
    # The stand-in's paginator from DynamoDB's whole model (list_tables is outside the client's slice).
    return [page['TableNames'] for page in ddb.get_paginator('list_tables').paginate(PaginationConfig={'PageSize': 1})]


# Cases that reach the real botocore in nexus mode (the generic path), after the modules are recorded.
GENERIC_CASES, generic = case_list()


@generic
def get_item_does_not_paginate(ddb):
    return ddb.get_paginator('get_item')


def main(argv):
    ddb = client()
    clean(ddb)
    print_suite(CASES, GENERIC_CASES, ddb)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
