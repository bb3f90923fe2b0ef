# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""What a client of botocore makes of timestamp parameters and where it says it sends them: run with the stand-in first
on sys.path (``standin``) or with Debian's real botocore (``real``); prints JSON that test_own_clients.py compares.

  /usr/bin/python3 own_client_probe.py standin|real
"""

import datetime  # noqa: F401 (the inputs below name it)
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# Timestamp inputs as Python expressions: every form botocore's parse_to_aware_datetime takes, and ones it refuses.
TIMESTAMPS = [
    'datetime.datetime(2024, 1, 2, 3, 4, 5)', 'datetime.datetime(2024, 1, 2, 3, 4, 5, 600000)',
    'datetime.datetime(2024, 1, 2, 3, 4, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=5, minutes=30)))',
    'datetime.datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=datetime.timezone.utc)', '1704164645', '1704164645.75', '0',
    "'1704164645'", "'1704164645.5'", "'2024-01-02T03:04:05Z'", "'2024-01-02'", "'2024-01-02T03:04:05.123456+02:00'",
    "'Tue, 02 Jan 2024 03:04:05 GMT'", "'20240102T030405Z'", 'True', "'not a time'", "''", 'datetime.date(2024, 1, 2)',
    'None', '[1]', "b'1704164645'",
]
SERVICES = ['kms', 'sts', 'events', 'ses', 'cloudwatch', 'lambda', 'dynamodb', 'ssm', 'secretsmanager', 'sqs', 'sns',
            'kinesis', 'firehose', 'stepfunctions', 'sesv2', 'apigatewaymanagementapi', 'iot-data']
REGIONS = ['us-east-1', 'eu-west-1', 'ap-east-1', 'us-gov-west-1', 'cn-north-1']
# Paginators' resume tokens: a DynamoDB key with text, numbers and bytes (binary keys), an S3 marker.
TOKENS = [
    {'ExclusiveStartKey': {'pk': {'S': 'a'}, 'sk': {'N': '2'}}, 'boto_truncate_amount': 1},
    {'ExclusiveStartKey': {'pk': {'B': b'\x00\xff'}, 'sk': {'BS': [b'\x01', b'x']}}},
    {'ContinuationToken': 'opaque/token=='}, {'Marker': 'é key'},
]


class Sent(Exception):
    """Raised where the request would go out: it carries the body."""


def calls(service, value):
    if service == 'events':
        return 'put_events', {'Entries': [{'Source': 's', 'DetailType': 'd', 'Detail': '{}', 'Time': value}]}
    return 'put_metric_data', {'Namespace': 'N', 'MetricData': [{'MetricName': 'm', 'Value': 1.5, 'Timestamp': value}]}


def main(mode):
    if mode == 'standin':
        sys.path.insert(0, os.path.dirname(HERE))
    import boto3
    import botocore.client

    def body_of(request_body):
        return request_body.decode() if isinstance(request_body, bytes) else request_body

    if mode == 'standin':
        class Channel:
            def call(self, op, params, body=None, timeout=None):
                raise Sent(body_of(body))
        botocore.client._set_transport(Channel())

    def client(service, region):
        made = boto3.client(service, region_name=region, aws_access_key_id='a', aws_secret_access_key='b')
        if mode == 'real':
            def stop(request, **_):
                raise Sent(body_of(request.body))
            made.meta.events.register('before-send', stop)
        return made

    if mode == 'standin':
        from botocore.paginate import _decode_token, _encode_token
    else:
        from botocore.paginate import TokenDecoder, TokenEncoder
        _encode_token, _decode_token = TokenEncoder().encode, TokenDecoder().decode
    out = {'timestamps': [], 'endpoints': {}, 'tokens': []}
    for token in TOKENS:
        encoded = _encode_token(token)
        out['tokens'].append([encoded, repr(_decode_token(encoded))])
    for service in ('events', 'cloudwatch'):
        made = client(service, 'us-east-1')
        for text in TIMESTAMPS:
            method, params = calls(service, eval(text))
            try:
                getattr(made, method)(**params)
                outcome = 'sent nothing'
            except Sent as e:
                outcome = e.args[0]
            except Exception as e:  # the outcome, whatever it is, is compared
                outcome = f'{type(e).__name__}: {e}'
            out['timestamps'].append([service, text, outcome])
    for regional in ('legacy', 'regional'):
        os.environ['AWS_STS_REGIONAL_ENDPOINTS'] = regional
        for service in SERVICES:
            for region in REGIONS:
                out['endpoints'][f'{regional} {service} {region}'] = client(service, region).meta.endpoint_url
    out['retry_quota'] = retry_quota_record(mode, boto3, botocore.client)
    print(json.dumps(out, indent=1))


# Standard-mode retries against a service that is down: the client's retry quota runs out after 50 failing calls
# (two retries of 5 units each), a success gives a unit back, then a down call is not retried for want of quota.
QUOTA_SEQUENCE = ['down'] * 52 + ['up'] + ['down'] * 2 + ['up'] * 5 + ['down']


def answer_of(name):
    if name == 'up':
        return 200, {'Content-Type': 'application/json', 'x-amzn-RequestId': 'r'}, b'{}'
    return 503, {'Content-Type': 'application/json', 'x-amzn-RequestId': 'r', 'x-amzn-ErrorType': 'ServiceException'}, \
        b'{"Type": "Service", "message": "down"}'


def retry_quota_record(mode, boto3, botocore_client):
    import io
    from botocore.config import Config
    seen = []
    if mode == 'standin':
        from botocore import _nexus_responses
        _nexus_responses.time.sleep = lambda seconds: None

        class Response:
            def __init__(self, name):
                self.status, headers, body = answer_of(name)
                self.meta, self.body = {'Headers': {k.lower(): v for k, v in headers.items()}}, io.BytesIO(body)

        class Channel:
            def call(self, op, params, body=None, timeout=None):
                name = params['Path'].split('/')[3]
                seen.append(name)
                return Response(name)
        botocore_client._set_transport(Channel())
        endpoint = None
    else:
        import http.server
        import threading
        import botocore.endpoint
        botocore.endpoint.time.sleep = lambda seconds: None

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers['Content-Length']))
                name = self.path.split('/')[3]
                seen.append(name)
                status, headers, body = answer_of(name)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header('Content-Length', str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        endpoint = f'http://127.0.0.1:{server.server_port}'
    lam = boto3.client('lambda', region_name='us-east-1', endpoint_url=endpoint, aws_access_key_id='a',
                       aws_secret_access_key='b', config=Config(retries={'mode': 'standard'}))
    record = []
    for name in QUOTA_SEQUENCE:
        before = len(seen)
        try:
            metadata = lam.invoke(FunctionName=name)['ResponseMetadata']
            code = None
        except lam.exceptions.ServiceException as e:
            metadata, code = e.response['ResponseMetadata'], e.response['Error']['Code']
        record.append([name, code, len(seen) - before, metadata.get('RetryAttempts'),
                       metadata.get('MaxAttemptsReached'), metadata.get('RetryQuotaReached')])
    return record


if __name__ == '__main__':
    main(sys.argv[1])
