# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the stand-in's EventBridge, SES and CloudWatch clients: the same calls by real boto3 (baseline,
through the node's signing proxy) and by the stand-in (nexus, over the channel, without the real botocore), against one
scripted endpoint (tests/Nexus.Frontend.Tests, NotifyStandInTests) that answers each event source, sender or
namespace with one kind of answer: JSON for EventBridge, XML for SES and CloudWatch. Timestamps go in every form
botocore takes. The record names the modules loaded after the stand-in's calls, and ends with what the endpoint
received.

  python3 notifytest.py run

Environment: NOTIFYTEST_ENDPOINT (baseline: the node's signing proxy; routed by the node in nexus mode),
AWS_DEFAULT_REGION, and the function's key in baseline.
"""

import datetime
import json
import sys
from decimal import Decimal

from difftest_common import case_list, caught, print_suite, scripted_client


def client(service, **retries):
    return scripted_client(service, 'NOTIFYTEST_ENDPOINT', **retries)


CASES, case = case_list()
GENERIC_CASES, generic = case_list()

OFFSET = datetime.timezone(datetime.timedelta(hours=-7))


@case
def put_events(events, ses, cloudwatch):
    return events.put_events(Entries=[
        {'Source': 'app.orders', 'DetailType': 'OrderPlaced', 'Detail': json.dumps({'order': 42}),
         'Resources': ['arn:aws:s3:::bucket/orders/42'], 'EventBusName': 'default',
         'Time': datetime.datetime(2026, 12, 6, 12, 0, 0, 250000), 'TraceHeader': 'Root=1-a'},
        {'Source': 'app.orders', 'DetailType': 'OrderShipped', 'Detail': '{}',
         'Time': datetime.datetime(2026, 12, 6, 5, 0, 0, tzinfo=OFFSET)},
        {'Source': 'app.orders', 'DetailType': 'OrderPaid', 'Detail': '{}', 'Time': '2026-12-06T12:00:00+01:00'},
        {'Source': 'app.orders', 'DetailType': 'OrderClosed', 'Detail': '{}', 'Time': 1796558400.5}])


@case
def put_events_partly_failed(events, ses, cloudwatch):
    return events.put_events(Entries=[{'Source': 'app.failing', 'DetailType': 'd', 'Detail': '{}'},
                                      {'Source': 'app.orders', 'DetailType': 'd', 'Detail': '{}'}])


@case
def put_events_bus_missing_is_modeled(events, ses, cloudwatch):
    try:
        events.put_events(Entries=[{'Source': 'app.orders', 'DetailType': 'd', 'Detail': '{}', 'EventBusName': 'gone'}])
    except events.exceptions.ResourceNotFoundException as e:
        return caught(e, 'ResourceNotFoundException')


@case
def put_events_throttled_is_retried(events, ses, cloudwatch):
    return client('events', max_attempts=1).put_events(Entries=[{'Source': 'app.hot', 'DetailType': 'd', 'Detail': '{}'}])


@case
def put_events_checked(events, ses, cloudwatch):
    return events.put_events(Entries=[{'Source': 'app.orders', 'Time': 'yesterday-ish'}, {'Time': datetime.date(2026, 1, 1)}])


@case
def put_events_needs_entries(events, ses, cloudwatch):
    return events.put_events(Entries=[])


@case
def send_email(events, ses, cloudwatch):
    return ses.send_email(
        Source='Orders <orders@example.com>',
        Destination={'ToAddresses': ['a@example.com', 'b@example.com'], 'CcAddresses': [], 'BccAddresses': ['c@example.com']},
        Message={'Subject': {'Data': 'Order 42 ✓', 'Charset': 'UTF-8'},
                 'Body': {'Text': {'Data': 'Shipped & on its way'}, 'Html': {'Data': '<p>Shipped</p>'}}},
        ReplyToAddresses=['help@example.com'], Tags=[{'Name': 'kind', 'Value': 'shipping'}],
        ConfigurationSetName='transactional')


@case
def send_raw_email(events, ses, cloudwatch):
    raw = b'From: orders@example.com\r\nTo: a@example.com\r\nSubject: raw\r\n\r\n\xe2\x9c\x93 body\r\n'
    return ses.send_raw_email(RawMessage={'Data': raw}, Destinations=['a@example.com'])


@case
def rejected_message_is_modeled(events, ses, cloudwatch):
    try:
        ses.send_email(Source='spam@example.com', Destination={'ToAddresses': ['a@example.com']},
                       Message={'Subject': {'Data': 's'}, 'Body': {'Text': {'Data': 'b'}}})
    except ses.exceptions.MessageRejected as e:
        return caught(e, 'MessageRejected')


@case
def ses_throttling_is_retried(events, ses, cloudwatch):
    return client('ses', max_attempts=1).send_raw_email(RawMessage={'Data': 'Subject: hot\r\n\r\nx'},
                                                        Source='hot@example.com')


@case
def send_templated_email_outside_the_grants(events, ses, cloudwatch):
    return ses.send_templated_email(Source='orders@example.com', Destination={'ToAddresses': ['a@example.com']},
                                    Template='shipped', TemplateData='{"order": 42}')


@case
def ses_parameters_checked(events, ses, cloudwatch):
    return ses.send_email(Source='orders@example.com', Destination={'ToAddresses': 'a@example.com'},
                          Message={'Subject': {}, 'Body': {'Text': {'Data': 1}}})


@case
def put_metric_data(events, ses, cloudwatch):
    return cloudwatch.put_metric_data(Namespace='App/Orders', MetricData=[
        {'MetricName': 'Latency', 'Dimensions': [{'Name': 'Function', 'Value': 'orders'}],
         'Timestamp': datetime.datetime(2026, 12, 6, 12, 0, 0, 123456), 'Value': 12.5, 'Unit': 'Milliseconds',
         'StorageResolution': 1},
        {'MetricName': 'Count', 'Timestamp': '2026-12-06T07:00:00-05:00', 'Value': Decimal('3'), 'Unit': 'Count'},
        {'MetricName': 'Sizes', 'Timestamp': 1796558400, 'Values': [1.0, 2.5, 1e21], 'Counts': [3, 1, 1]},
        {'MetricName': 'Stats', 'Timestamp': datetime.datetime(2026, 12, 6, 4, 0, 0, tzinfo=OFFSET),
         'StatisticValues': {'SampleCount': 4, 'Sum': 10.0, 'Minimum': 1.0, 'Maximum': 4.0}},
        {'MetricName': 'Empty', 'Dimensions': []}])


@case
def invalid_metric_is_modeled(events, ses, cloudwatch):
    try:
        cloudwatch.put_metric_data(Namespace='AWS/Reserved', MetricData=[{'MetricName': 'm', 'Value': 1}])
    except cloudwatch.exceptions.InvalidParameterValueException as e:
        return caught(e, 'InvalidParameterValueException')


@case
def metric_parameters_checked(events, ses, cloudwatch):
    return cloudwatch.put_metric_data(Namespace='', MetricData=[{'Value': 'high', 'Timestamp': 'soon'}])


@case
def client_shapes(events, ses, cloudwatch):
    return [{'class': type(c).__name__, 'exceptions': type(c.exceptions).__name__,
             'service': c.meta.service_model.service_name} for c in (events, ses, cloudwatch)]


@generic
def endpoint_requests(events, ses, cloudwatch):
    """What the endpoint received, in order (its own record, read back as an event's error message)."""
    answer = events.put_events(Entries=[{'Source': 'received', 'DetailType': 'd', 'Detail': '{}'}])
    return json.loads(answer['Entries'][0]['ErrorMessage'])


def main(argv):
    print_suite(CASES, GENERIC_CASES, client('events'), client('ses'), client('cloudwatch'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
