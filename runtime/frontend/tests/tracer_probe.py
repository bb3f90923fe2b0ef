# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A function's tracer over the stand-in (test_instrumentation.py runs it in a process of its own): Debian's AWS X-Ray
SDK patches botocore, as a function's tracing does (the Lambda Powertools Tracer patches boto3 through it), then S3
calls of the fast path and a DynamoDB call of an own client are made against a fake channel; prints the subsegments
the tracer recorded, and the trace header DynamoDB's request carried."""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from aws_xray_sdk.core import patch, xray_recorder  # noqa: E402
from fake_transport import FakeResponse, FakeTransport  # noqa: E402


sent_trace_headers = []


class _Transport(FakeTransport):
    """The fake backend of S3's fast path, and a DynamoDB that answers GetItem."""

    def _ServiceRequest(self, params, body):
        import io
        sent_trace_headers.append(params['Headers'].get('X-Amzn-Trace-Id'))
        answer = json.dumps({'Item': {'pk': {'S': 'a'}}}).encode()
        return FakeResponse(200, {'Headers': {'x-amzn-requestid': 'DDB-REQ', 'content-type': 'application/x-amz-json-1.0'}},
                            io.BytesIO(answer))


class _Emitter:
    """Keeps the segment the recorder would send to the X-Ray daemon."""

    def __init__(self):
        self.sent = []

    def send_entity(self, entity):
        self.sent.append(entity)

    def set_daemon_address(self, address):
        pass


emitter = _Emitter()
xray_recorder.configure(sampling=False, context_missing='LOG_ERROR', emitter=emitter)
patch(['botocore'])
botocore.client._set_transport(_Transport(buckets=('bucket',)))
xray_recorder.begin_segment('function')
s3 = boto3.client('s3', region_name='eu-west-1')
s3.put_object(Bucket='bucket', Key='k', Body=b'data')
s3.get_object(Bucket='bucket', Key='k')['Body'].read()
try:
    s3.get_object(Bucket='bucket', Key='missing')
except s3.exceptions.NoSuchKey:
    pass
boto3.client('dynamodb', region_name='eu-west-1').get_item(TableName='orders', Key={'pk': {'S': 'a'}})
xray_recorder.end_segment()
segment = json.loads(emitter.sent[0].serialize())
subsegments = segment.get('subsegments', [])
print(json.dumps({'subsegments': [{'name': s['name'], 'namespace': s.get('namespace'), 'aws': s.get('aws'),
                                   'http': s.get('http'), 'fault': s.get('fault', False), 'error': s.get('error', False),
                                   'exception': [e.get('type') for e in s.get('cause', {}).get('exceptions', [])]}
                                  for s in subsegments],
                  # The trace header DynamoDB's request carried, and the one its subsegment would give it.
                  'sent_trace_header': sent_trace_headers[0] if sent_trace_headers else None,
                  'expected_trace_header': f"Root={segment['trace_id']};Parent={subsegments[-1]['id']};Sampled=1"
                  if subsegments else None}, sort_keys=True))
