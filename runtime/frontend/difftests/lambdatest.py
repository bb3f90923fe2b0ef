# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of Lambda's Invoke: the same calls, by real boto3 (baseline) and by the stand-in (nexus).

Written like handler code: it imports boto3 and never asks which one it got. In baseline mode botocore signs each call
with the function's key and sends it to the node's signing proxy; in nexus mode the stand-in's Lambda client sends it
over the channel (ServiceRequest), without loading the real botocore. Both reach the same scripted Lambda endpoint
(tests/Nexus.Frontend.Tests, LambdaStandInTests), which answers by function name: an echo of what it received, a
function error, each kind of error answer, throttling, a failure that clears on retry. The harness compares the two
records, and what the endpoint received from each.

  python3 lambdatest.py run     every case, print {"cases": [...], "modules": [...], ...}

Environment: LAMBDATEST_ENDPOINT (baseline: the node's signing proxy; routed by the node in nexus mode),
AWS_LAMBDA_FUNCTION_NAME and _X_AMZN_TRACE_ID (as in a function: botocore passes the trace on), AWS_DEFAULT_REGION,
and the function's key in baseline.
"""

import io
import json
import os
import sys
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, ReadTimeoutError

from difftest_common import case_list, norm, norm_error, print_suite

ARN = 'arn:aws:lambda:us-east-1:123456789012:function:'


def client(**retries):
    return boto3.client('lambda', endpoint_url=os.environ.get('LAMBDATEST_ENDPOINT'),
                        config=Config(retries=retries or {'max_attempts': 0}))


def answer(response):
    """A response with its payload read (JSON when it is)."""
    payload = response.pop('Payload').read()
    try:
        response['Payload'] = json.loads(payload) if payload else payload
    except ValueError:
        response['Payload'] = payload
    return response


CASES, case = case_list()


@case
def invoke_bytes(lam):
    return answer(lam.invoke(FunctionName='dt-echo', Payload=json.dumps({'n': 1}).encode()))


@case
def invoke_text_payload(lam):
    return answer(lam.invoke(FunctionName='dt-echo', Payload='{"text": "é ü"}'))


@case
def invoke_file_payload(lam):
    return answer(lam.invoke(FunctionName='dt-echo', Payload=io.BytesIO(b'{"from": "a file"}')))


@case
def invoke_bytearray_payload(lam):
    return answer(lam.invoke(FunctionName='dt-echo', Payload=bytearray(b'[1, 2, 3]')))


@case
def invoke_without_payload(lam):
    return answer(lam.invoke(FunctionName='dt-echo'))


@case
def invoke_every_header(lam):
    return answer(lam.invoke(FunctionName='dt-echo', InvocationType='RequestResponse', LogType='Tail',
                             ClientContext='eyJjdXN0b20iOiB7ImEiOiAxfX0=', Payload=b'{}', Qualifier='$LATEST'))


@case
def invoke_by_arn(lam):
    return answer(lam.invoke(FunctionName=ARN + 'dt-echo', Payload=b'{}'))


@case
def invoke_by_partial_arn_with_version(lam):
    return answer(lam.invoke(FunctionName='123456789012:function:dt-echo:$LATEST', Payload=b'{}'))


@case
def invoke_event(lam):
    return answer(lam.invoke(FunctionName='dt-echo', InvocationType='Event', Payload=b'{"queued": true}'))


@case
def invoke_dry_run(lam):
    return answer(lam.invoke(FunctionName='dt-echo', InvocationType='DryRun'))


@case
def function_error(lam):
    return answer(lam.invoke(FunctionName='dt-fails', Payload=b'{}'))


@case
def missing_function_caught_as_modeled(lam):
    try:
        lam.invoke(FunctionName='dt-missing', Payload=b'{}')
    except lam.exceptions.ResourceNotFoundException as e:
        return {'caught_as': 'client.exceptions.ResourceNotFoundException', 'error': norm_error(e)}


@case
def throttled_legacy_retries(lam):
    return answer(client(max_attempts=1).invoke(FunctionName='dt-throttled', Payload=b'{}'))


@case
def throttled_standard_retries(lam):
    return answer(client(mode='standard', total_max_attempts=2).invoke(FunctionName='dt-throttled', Payload=b'{}'))


@case
def service_exception_500(lam):
    return answer(lam.invoke(FunctionName='dt-broken', Payload=b'{}'))


@case
def bad_gateway_page(lam):
    return answer(lam.invoke(FunctionName='dt-gateway', Payload=b'{}'))


@case
def empty_503(lam):
    return answer(lam.invoke(FunctionName='dt-empty503', Payload=b'{}'))


@case
def code_in_body_type(lam):
    return answer(lam.invoke(FunctionName='dt-typecode', Payload=b'{}'))


@case
def code_in_body_code(lam):
    return answer(lam.invoke(FunctionName='dt-code', Payload=b'{}'))


@case
def error_body_not_json(lam):
    return answer(lam.invoke(FunctionName='dt-notjson', Payload=b'{}'))


@case
def too_large_modeled(lam):
    return answer(lam.invoke(FunctionName='dt-toolarge', Payload=b'{}'))


@case
def fails_once_then_succeeds(lam):
    return answer(client(max_attempts=2).invoke(FunctionName='dt-flaky', Payload=b'{}'))


@case
def read_timeout_retried_then_raised(lam):
    """botocore's read_timeout: a callee slower than it is invoked again (legacy retries), then ReadTimeoutError."""
    slow = boto3.client('lambda', endpoint_url=os.environ.get('LAMBDATEST_ENDPOINT'),
                        config=Config(read_timeout=1, retries={'max_attempts': 1}))
    try:
        slow.invoke(FunctionName='dt-slow', Payload=b'{}')
        outcome = 'answered'
    except ReadTimeoutError as e:
        outcome = {'exception': type(e).__name__, 'is_http_client_error': isinstance(e, HTTPClientError)}
    time.sleep(5)  # the endpoint finishes both slow answers (the caller drops them) before the next case
    return outcome


@case
def read_timeout_long_enough(lam):
    patient = boto3.client('lambda', endpoint_url=os.environ.get('LAMBDATEST_ENDPOINT'),
                           config=Config(read_timeout=30, retries={'max_attempts': 0}))
    return answer(patient.invoke(FunctionName='dt-slow', Payload=b'{"waited": true}'))


@case
def standard_mode_single_attempt_success(lam):
    return answer(client(mode='standard', total_max_attempts=1).invoke(FunctionName='dt-echo', Payload=b'{}'))


@case
def standard_mode_single_attempt_error(lam):
    return answer(client(mode='standard', total_max_attempts=1).invoke(FunctionName='dt-missing', Payload=b'{}'))


@case
def outside_the_grants(lam):
    return answer(lam.invoke(FunctionName='secret', Payload=b'{}'))


@case
def qualifier_the_node_lacks(lam):
    return answer(lam.invoke(FunctionName='dt-echo', Qualifier='v1', Payload=b'{}'))


@case
def parameters_checked(lam):
    return lam.invoke(FunctionName='', Payload=3, Bogus=1, Qualifier='', LogType=None)


@case
def function_name_missing(lam):
    return lam.invoke(Payload=b'{}')


@case
def positional_arguments(lam):
    return lam.invoke('dt-echo')


@case
def streaming_payload(lam):
    response = lam.invoke(FunctionName='dt-echo', Payload=b'{"lines": true}')
    body = response['Payload']
    return {'chunks': [norm(c) for c in body.iter_chunks(7)], 'after': norm(body.read())}


@case
def client_shape(lam):
    return {'class': type(lam).__name__, 'region': lam.meta.region_name,
            'service': lam.meta.service_model.service_name, 'protocol': lam.meta.service_model.protocol,
            'exception_is_client_error': issubclass(lam.exceptions.TooManyRequestsException, ClientError),
            'exceptions_class': type(lam.exceptions).__name__}


@case
def function_configuration(lam):
    # Served to a function by the node (the grant names the function); the stand-in's client from Lambda's model.
    return lam.get_function_configuration(FunctionName='dt-echo')


@case
def configuration_outside_the_grants(lam):
    return lam.get_function_configuration(FunctionName='secret')


@case
def list_functions(lam):
    return lam.list_functions(MaxItems=2)


@case
def get_function_is_not_served(lam):
    # Its answer names the function's code folder on the host: refused before it is sent, in both modes.
    return lam.get_function(FunctionName='dt-echo')


# Cases that reach the real botocore in nexus mode (the generic path), after the modules are recorded.
GENERIC_CASES, generic = case_list()


@generic
def a_handler_registered_routes_the_client(lam):
    seen = []
    routed = client()
    routed.meta.events.register('before-call.lambda.Invoke', lambda params, **kwargs: seen.append(params['url_path']))
    result = answer(routed.invoke(FunctionName='dt-echo', Payload=b'{}'))
    return {'seen': seen, 'result': result}


@generic
def read_timeout_on_the_generic_path(lam):
    """A client with a handler registered is the real botocore's in nexus mode: its read_timeout holds there too."""
    slow = boto3.client('lambda', endpoint_url=os.environ.get('LAMBDATEST_ENDPOINT'),
                        config=Config(read_timeout=1, retries={'max_attempts': 1}))
    slow.meta.events.register('before-call.lambda.Invoke', lambda **kwargs: None)
    try:
        slow.invoke(FunctionName='dt-slow', Payload=b'{}')
        outcome = 'answered'
    except ReadTimeoutError as e:
        outcome = type(e).__name__
    time.sleep(5)  # the endpoint finishes both slow answers before the next case
    return outcome


@generic
def endpoint_requests(lam):
    """What the endpoint received, in order (its own record, read back through a function)."""
    return answer(lam.invoke(FunctionName='dt-received', Payload=b'{}'))


def main(argv):
    lam = client()
    print_suite(CASES, GENERIC_CASES, lam)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
