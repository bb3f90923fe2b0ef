# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the stand-in's REST-JSON clients (SES v2, API Gateway's management API, IoT data): the same
calls by real boto3 (baseline, through the node's signing proxy) and by the stand-in (nexus, over the channel, without
the real botocore), against one scripted endpoint (tests/Nexus.Frontend.Tests, RestStandInTests) that answers by path
as those services do. Members travel in the URI, query string, headers and body; answers come back in the status,
headers and body, a blob payload as a stream. The record names the modules loaded after the stand-in's calls, and
ends with what the endpoint received.

  python3 resttest.py run

Environment: RESTTEST_ENDPOINT (baseline: the node's signing proxy; in nexus mode unset, the node routes), and the
function's key in baseline.
"""

import datetime
import json
import os
import sys
from urllib.parse import urlsplit

import boto3
from botocore.config import Config

from difftest_common import case_list, caught, norm, print_suite

# Where a function's clients point: an API's stage and an account's IoT endpoint (in baseline, the proxy under the
# same paths).
STAGE = 'https://abc123.execute-api.us-east-1.amazonaws.com/prod'
IOT = 'https://a1b2c3-ats.iot.us-east-1.amazonaws.com'


def client(service, endpoint=None, **retries):
    """A client of ``service`` made with ``endpoint`` (nexus mode), or with the proxy under its path (baseline)."""
    proxy = os.environ.get('RESTTEST_ENDPOINT')
    if proxy:
        endpoint = proxy + (urlsplit(endpoint).path if endpoint else '')
    return boto3.client(service, endpoint_url=endpoint, config=Config(retries=retries or {'max_attempts': 0}))


CASES, case = case_list()
GENERIC_CASES, generic = case_list()


@case
def sesv2_send_email(ses, apigw, iot):
    return ses.send_email(
        FromEmailAddress='orders@example.com',
        Destination={'ToAddresses': ['a@example.com'], 'BccAddresses': ['audit@example.com']},
        Content={'Simple': {'Subject': {'Data': 'Order 42 ✓', 'Charset': 'UTF-8'},
                            'Body': {'Text': {'Data': 'Shipped'}, 'Html': {'Data': '<b>Shipped</b>'}}}},
        EmailTags=[{'Name': 'kind', 'Value': 'shipping'}], ConfigurationSetName='transactional')


@case
def sesv2_send_raw_email(ses, apigw, iot):
    return ses.send_email(FromEmailAddress='orders@example.com', Destination={'ToAddresses': ['a@example.com']},
                          Content={'Raw': {'Data': b'Subject: raw\r\n\r\n\xe2\x9c\x93'}})


@case
def sesv2_send_bulk_email(ses, apigw, iot):
    return ses.send_bulk_email(
        FromEmailAddress='orders@example.com',
        DefaultContent={'Template': {'TemplateName': 'shipped', 'TemplateData': '{}'}},
        BulkEmailEntries=[{'Destination': {'ToAddresses': ['a@example.com']}},
                          {'Destination': {'ToAddresses': ['bounced@example.com']},
                           'ReplacementEmailContent': {'ReplacementTemplate': {'ReplacementTemplateData': '{"n": 1}'}}}])


@case
def sesv2_rejected_is_modeled(ses, apigw, iot):
    try:
        ses.send_email(FromEmailAddress='spam@example.com', Destination={'ToAddresses': ['a@example.com']},
                       Content={'Simple': {'Subject': {'Data': 's'}, 'Body': {'Text': {'Data': 'b'}}}})
    except ses.exceptions.MessageRejected as e:
        return caught(e, 'MessageRejected')


@case
def sesv2_throttled_is_retried(ses, apigw, iot):
    return client('sesv2', max_attempts=1).send_email(
        FromEmailAddress='hot@example.com', Destination={'ToAddresses': ['a@example.com']},
        Content={'Simple': {'Subject': {'Data': 's'}, 'Body': {'Text': {'Data': 'b'}}}})


@case
def sesv2_parameters_checked(ses, apigw, iot):
    return ses.send_email(Destination={'ToAddresses': 'a@example.com'}, Content={'Simple': {'Subject': {}}})


@case
def post_to_connection(ses, apigw, iot):
    return apigw.post_to_connection(ConnectionId='conn-1=', Data=json.dumps({'order': 42}))


@case
def post_to_connection_bytes(ses, apigw, iot):
    return apigw.post_to_connection(ConnectionId='conn-1=', Data=b'\x00\x01binary frame')


@case
def post_to_a_gone_connection_is_modeled(ses, apigw, iot):
    try:
        apigw.post_to_connection(ConnectionId='gone', Data=b'x')
    except apigw.exceptions.GoneException as e:
        return caught(e, 'GoneException')


@case
def get_connection(ses, apigw, iot):
    return apigw.get_connection(ConnectionId='conn-1=')


@case
def delete_connection(ses, apigw, iot):
    return apigw.delete_connection(ConnectionId='conn-1=')


@case
def iot_publish(ses, apigw, iot):
    return iot.publish(topic='devices/42/commands', qos=1, retain=True, payload=b'{"led": "on"}',
                       contentType='application/json', userProperties=json.dumps([{'deviceName': 'alpha'}]),
                       messageExpiry=3600, correlationData='Y29ycg==')


@case
def iot_get_thing_shadow(ses, apigw, iot):
    answer = iot.get_thing_shadow(thingName='lamp 1', shadowName='settings')
    payload = answer.pop('payload')
    return {'answer': answer, 'payload_type': type(payload).__name__, 'payload': norm(payload.read())}


@case
def iot_update_thing_shadow(ses, apigw, iot):
    answer = iot.update_thing_shadow(thingName='lamp 1', payload=json.dumps({'state': {'desired': {'on': True}}}))
    return {'answer': {k: v for k, v in answer.items() if k != 'payload'}, 'payload': norm(answer['payload'].read())}


@case
def iot_missing_thing_is_modeled(ses, apigw, iot):
    try:
        iot.get_thing_shadow(thingName='missing')
    except iot.exceptions.ResourceNotFoundException as e:
        return caught(e, 'ResourceNotFoundException')


@case
def iot_parameters_checked(ses, apigw, iot):
    return iot.publish(topic='', qos='high', payload=7, when=datetime.datetime(2026, 1, 1))


@case
def client_shapes(ses, apigw, iot):
    return [{'class': type(c).__name__, 'exceptions': type(c.exceptions).__name__,
             'service': c.meta.service_model.service_name} for c in (ses, apigw, iot)]


@generic
def endpoint_requests(ses, apigw, iot):
    """What the endpoint received, in order (its own record, read back as a message id)."""
    return json.loads(ses.send_email(FromEmailAddress='received@example.com', Destination={},
                                     Content={'Simple': {'Subject': {'Data': 's'}, 'Body': {}}})['MessageId'])


def main(argv):
    print_suite(CASES, GENERIC_CASES, client('sesv2'), client('apigatewaymanagementapi', STAGE),
                client('iot-data', IOT))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
