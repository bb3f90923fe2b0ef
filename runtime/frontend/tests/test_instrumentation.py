# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Tracers over the stand-in: every API call of a stand-in client goes through BaseClient._make_api_call, as in
botocore, which is what AWS X-Ray (and the Lambda Powertools Tracer over it), OpenTelemetry and Datadog wrap; without
it a function that patches botocore for tracing failed at import in nexus mode ('BaseClient' has no attribute
'_make_api_call') while it ran in baseline."""

import os
import subprocess
import sys
import unittest

from frontend_case import FrontendTestCase

import boto3
import botocore.client

HERE = os.path.dirname(os.path.abspath(__file__))


def _has_xray():
    return subprocess.run(['/usr/bin/python3', '-c', 'import aws_xray_sdk.core'], capture_output=True).returncode == 0


class MakeApiCallTests(FrontendTestCase):
    def setUp(self):
        super().setUp()
        self.seen = []
        self.original = botocore.client.BaseClient._make_api_call
        seen = self.seen
        original = self.original

        def traced(client, operation_name, api_params):
            # What a tracer's wrapper does: note the call, run it, note its answer.
            seen.append((type(client).__name__, client._service_model.metadata['endpointPrefix'], operation_name,
                         sorted(api_params)))
            result = original(client, operation_name, api_params)
            seen.append(result['ResponseMetadata']['HTTPStatusCode'])
            return result
        botocore.client.BaseClient._make_api_call = traced

    def tearDown(self):
        botocore.client.BaseClient._make_api_call = self.original
        super().tearDown()

    def test_fast_path_calls_go_through_make_api_call_with_their_parameters(self):
        self.s3.put_object(Bucket='bucket', Key='k', Body=b'x')
        self.s3.head_object(Bucket='bucket', Key='k')
        self.assertEqual(self.seen, [('S3', 's3', 'PutObject', ['Body', 'Bucket', 'Key']), 200,
                                     ('S3', 's3', 'HeadObject', ['Bucket', 'Key']), 200])

    def test_a_call_made_through_make_api_call_is_served_as_the_method_serves_it(self):
        self.s3.put_object(Bucket='bucket', Key='k', Body=b'data')
        answer = self.s3._make_api_call('GetObject', {'Bucket': 'bucket', 'Key': 'k'})
        self.assertEqual(answer['Body'].read(), b'data')

    def test_a_header_a_tracer_puts_on_the_prepared_request_is_sent(self):
        # What OpenTelemetry's botocore instrumentation (and newer X-Ray SDKs) do: wrap Endpoint.prepare_request and
        # set the trace header on request.headers.
        import io
        import json
        import botocore.endpoint
        sent = []

        class Channel:
            def call(self, op, params, body=None, timeout=None):
                sent.append(params['Headers'])
                response = type('Response', (), {})()
                response.status, response.body = 200, io.BytesIO(json.dumps({'Item': {}}).encode())
                response.meta = {'Headers': {'x-amzn-requestid': 'r', 'content-type': 'application/x-amz-json-1.0'}}
                return response
        original = botocore.endpoint.Endpoint.prepare_request

        def traced(endpoint, request):
            request.headers['X-Amzn-Trace-Id'] = f'Root=1-00000000-000000000000000000000001;{request.method}'
            return original(endpoint, request)
        botocore.endpoint.Endpoint.prepare_request = traced
        botocore.client._set_transport(Channel())
        try:
            boto3.client('dynamodb', region_name='us-east-1').get_item(TableName='orders', Key={'pk': {'S': 'a'}})
        finally:
            botocore.endpoint.Endpoint.prepare_request = original
        self.assertEqual(sent[0]['X-Amzn-Trace-Id'], 'Root=1-00000000-000000000000000000000001;POST')

    def test_model_clients_name_their_service_as_botocore_does(self):
        sfn = boto3.client('stepfunctions', region_name='us-east-1')
        self.assertEqual((sfn._service_model.metadata['endpointPrefix'], sfn.meta.service_model.signing_name,
                          sfn.meta.service_model.service_id, sfn.meta.service_model.service_id.hyphenize()),
                         ('states', 'states', 'SFN', 'sfn'))
        self.assertEqual(self.s3._service_model.metadata['serviceId'], 'S3')


@unittest.skipUnless(_has_xray(), "Debian's python3-aws-xray-sdk (installed by scripts/setup) is not on this machine")
class XRayTests(unittest.TestCase):
    def test_the_xray_sdk_records_a_subsegment_per_call_as_over_botocore(self):
        run = subprocess.run(['/usr/bin/python3', os.path.join(HERE, 'tracer_probe.py')], capture_output=True,
                             text=True, timeout=120, env={k: v for k, v in os.environ.items() if k != 'PYTHONPATH'})
        self.assertEqual(run.returncode, 0, run.stderr[-3000:])
        import json
        record = json.loads(run.stdout)
        subsegments = record['subsegments']

        def ok(operation, request_id, **aws):
            return {'name': 's3' if request_id == 'REQ' else 'dynamodb', 'namespace': 'aws',
                    'aws': {'operation': operation, 'region': 'eu-west-1', 'request_id': request_id, **aws},
                    'http': {'response': {'status': 200}}, 'fault': False, 'error': False, 'exception': []}
        missing = {'name': 's3', 'namespace': 'aws',
                   'aws': {'operation': 'GetObject', 'region': 'eu-west-1', 'request_id': 'REQ'},
                   'http': {'response': {'status': 404}}, 'fault': True, 'error': True, 'exception': ['NoSuchKey']}
        # The whitelist of the X-Ray SDK records DynamoDB's table from the call's parameters.
        self.assertEqual(subsegments, [ok('PutObject', 'REQ'), ok('GetObject', 'REQ'), missing,
                                       ok('GetItem', 'DDB-REQ', table_name='orders')])
        # The SDK's trace header (its call's subsegment as parent) went with DynamoDB's request, as over botocore.
        self.assertEqual(record['sent_trace_header'], record['expected_trace_header'])


if __name__ == '__main__':
    sys.exit(unittest.main())
