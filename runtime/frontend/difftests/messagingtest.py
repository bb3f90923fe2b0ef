# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the stand-in's SQS and SNS clients (query protocol): the same calls by real boto3 (baseline,
through the node's signing proxy) and by the stand-in (nexus, over the channel, without the real botocore), against one
scripted endpoint (tests/Nexus.Frontend.Tests, MessagingStandInTests) that answers each queue or topic with one kind of
answer. The record names the modules loaded after the stand-in's calls, and ends with what the endpoint received.

  python3 messagingtest.py run

Environment: MESSAGINGTEST_ENDPOINT (baseline: the node's signing proxy; routed by the node in nexus mode),
AWS_DEFAULT_REGION, and the function's key in baseline.
"""

import sys

from difftest_common import case_list, norm_error, print_suite, scripted_client

QUEUE = 'https://sqs.us-east-1.amazonaws.com/000000000000/orders'
TOPIC = 'arn:aws:sns:us-east-1:000000000000:events'


def client(service, **retries):
    return scripted_client(service, 'MESSAGINGTEST_ENDPOINT', **retries)


CASES, case = case_list()
GENERIC_CASES, generic = case_list()


@case
def send_message(sqs, _):
    return sqs.send_message(QueueUrl=QUEUE, MessageBody='order 42 é', DelaySeconds=0, MessageAttributes={
        'kind': {'DataType': 'String', 'StringValue': 'new'}, 'blob': {'DataType': 'Binary', 'BinaryValue': b'\x00\x01'}})


@case
def send_message_batch_partly_failed(sqs, _):
    return sqs.send_message_batch(QueueUrl=QUEUE, Entries=[
        {'Id': 'a', 'MessageBody': 'first'}, {'Id': 'b', 'MessageBody': 'second', 'DelaySeconds': 1000}])


@case
def receive_message(sqs, _):
    return sqs.receive_message(QueueUrl=QUEUE, AttributeNames=['All'], MessageAttributeNames=['All'],
                               MaxNumberOfMessages=2, WaitTimeSeconds=0)


@case
def receive_nothing(sqs, _):
    return sqs.receive_message(QueueUrl=QUEUE + '-empty')


@case
def delete_message(sqs, _):
    return sqs.delete_message(QueueUrl=QUEUE, ReceiptHandle='handle-1')


@case
def delete_message_batch(sqs, _):
    return sqs.delete_message_batch(QueueUrl=QUEUE, Entries=[{'Id': 'x', 'ReceiptHandle': 'handle-1'}])


@case
def change_message_visibility(sqs, _):
    """A consumer that needs longer for a message (or hands it back at once with 0)."""
    return sqs.change_message_visibility(QueueUrl=QUEUE, ReceiptHandle='handle-1', VisibilityTimeout=120)


@case
def change_message_visibility_batch_partly_failed(sqs, _):
    return sqs.change_message_visibility_batch(QueueUrl=QUEUE, Entries=[
        {'Id': 'a', 'ReceiptHandle': 'handle-1', 'VisibilityTimeout': 0},
        {'Id': 'b', 'ReceiptHandle': 'gone', 'VisibilityTimeout': 0}])


@case
def get_queue_attributes(sqs, _):
    return sqs.get_queue_attributes(QueueUrl=QUEUE, AttributeNames=['ApproximateNumberOfMessages', 'VisibilityTimeout'])


@case
def get_queue_url(sqs, _):
    return sqs.get_queue_url(QueueName='orders', QueueOwnerAWSAccountId='000000000000')


@case
def missing_queue_is_modeled(sqs, _):
    try:
        sqs.get_queue_url(QueueName='missing')
    except sqs.exceptions.QueueDoesNotExist as e:
        return {'caught_as': 'client.exceptions.QueueDoesNotExist', 'error': norm_error(e)}


@case
def throttled_is_retried(sqs, _):
    return client('sqs', max_attempts=1).get_queue_url(QueueName='throttled')


@case
def sqs_parameters_checked(sqs, _):
    return sqs.send_message(QueueUrl=QUEUE, MessageBody=7, MessageAttributes={'k': {'StringValue': 'v'}})


@case
def publish(_, sns):
    return sns.publish(TopicArn=TOPIC, Message='{"default": "x"}', MessageStructure='json', Subject='s',
                       MessageAttributes={'n': {'DataType': 'Number', 'StringValue': '5'}})


@case
def missing_topic_is_modeled(_, sns):
    try:
        sns.publish(TopicArn=TOPIC + '-missing', Message='m')
    except sns.exceptions.NotFoundException as e:
        return {'caught_as': 'client.exceptions.NotFoundException', 'error': norm_error(e)}


@case
def publish_batch_outside_the_grants(_, sns):
    return sns.publish_batch(TopicArn=TOPIC, PublishBatchRequestEntries=[{'Id': '1', 'Message': 'one'}])


@case
def client_shapes(sqs, sns):
    return [{'class': type(c).__name__, 'exceptions': type(c.exceptions).__name__,
             'protocol': c.meta.service_model.protocol} for c in (sqs, sns)]


@generic
def endpoint_requests(sqs, _):
    """What the endpoint received, in order (its own record, read back as a queue's URL)."""
    return sqs.get_queue_url(QueueName='received')['QueueUrl']


def main(argv):
    print_suite(CASES, GENERIC_CASES, client('sqs'), client('sns'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
