# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the stand-in's Kinesis, Firehose and Step Functions clients: the same calls by real boto3
(baseline, through the node's signing proxy) and by the stand-in (nexus, over the channel, without the real botocore),
against one scripted endpoint (tests/Nexus.Frontend.Tests, StreamsStandInTests) that answers each stream, delivery
stream or state machine with one kind of answer. The record names the modules loaded after the stand-in's calls, and
ends with what the endpoint received.

  python3 streamstest.py run

Environment: STREAMSTEST_ENDPOINT (baseline: the node's signing proxy; routed by the node in nexus mode),
AWS_DEFAULT_REGION, and the function's key in baseline.
"""

import sys

from difftest_common import case_list, norm_error, print_suite, scripted_client

MACHINE = 'arn:aws:states:us-east-1:000000000000:stateMachine:orders'


def client(service, **retries):
    return scripted_client(service, 'STREAMSTEST_ENDPOINT', **retries)


CASES, case = case_list()
GENERIC_CASES, generic = case_list()


@case
def kinesis_put_record(kinesis, firehose, sfn):
    return kinesis.put_record(StreamName='orders', Data=b'\x00order 42', PartitionKey='42',
                              SequenceNumberForOrdering='1')


@case
def kinesis_put_records_partly_failed(kinesis, firehose, sfn):
    return kinesis.put_records(StreamName='orders', Records=[
        {'Data': 'text data', 'PartitionKey': 'a'}, {'Data': bytearray(b'\x01'), 'PartitionKey': 'b'}])


@case
def kinesis_missing_stream_is_modeled(kinesis, firehose, sfn):
    try:
        kinesis.put_record(StreamName='missing', Data=b'x', PartitionKey='k')
    except kinesis.exceptions.ResourceNotFoundException as e:
        return {'caught_as': 'client.exceptions.ResourceNotFoundException', 'error': norm_error(e)}


@case
def kinesis_throughput_exceeded_is_retried(kinesis, firehose, sfn):
    return client('kinesis', max_attempts=1).put_record(StreamName='hot', Data=b'x', PartitionKey='k')


@case
def kinesis_parameters_checked(kinesis, firehose, sfn):
    return kinesis.put_records(StreamName='orders', Records=[])


@case
def firehose_put_record(kinesis, firehose, sfn):
    return firehose.put_record(DeliveryStreamName='logs', Record={'Data': b'{"line": 1}\n'})


@case
def firehose_put_record_batch(kinesis, firehose, sfn):
    return firehose.put_record_batch(DeliveryStreamName='logs', Records=[{'Data': b'a\n'}, {'Data': b'b\n'}])


@case
def start_execution(kinesis, firehose, sfn):
    return sfn.start_execution(stateMachineArn=MACHINE, name='run-1', input='{"order": 42}', traceHeader='Root=1-a')


@case
def start_execution_already_exists(kinesis, firehose, sfn):
    try:
        sfn.start_execution(stateMachineArn=MACHINE, name='taken')
    except sfn.exceptions.ExecutionAlreadyExists as e:
        return {'caught_as': 'client.exceptions.ExecutionAlreadyExists', 'error': norm_error(e)}


@case
def describe_execution(kinesis, firehose, sfn):
    """A function polling the execution it started."""
    return sfn.describe_execution(executionArn='arn:aws:states:us-east-1:000000000000:execution:orders:run-1')


@case
def send_task_success(kinesis, firehose, sfn):
    return sfn.send_task_success(taskToken='token-1', output='{"done": true}')


@case
def send_task_failure_outside_the_grants(kinesis, firehose, sfn):
    return sfn.send_task_failure(taskToken='token-1', error='E', cause='because')


@case
def client_shapes(kinesis, firehose, sfn):
    return [{'class': type(c).__name__, 'exceptions': type(c.exceptions).__name__,
             'service': c.meta.service_model.service_name} for c in (kinesis, firehose, sfn)]


@generic
def endpoint_requests(kinesis, firehose, sfn):
    """What the endpoint received, in order (its own record, read back as an execution's ARN)."""
    return sfn.start_execution(stateMachineArn=MACHINE, name='received')['executionArn']


def main(argv):
    print_suite(CASES, GENERIC_CASES, client('kinesis'), client('firehose'), client('stepfunctions'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
