# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the stand-in's SSM and Secrets Manager clients: the same calls by real boto3 (baseline, through
the node's signing proxy) and by the stand-in (nexus, over the channel, without the real botocore), against one
scripted endpoint (tests/Nexus.Frontend.Tests, SecretsStandInTests) that answers each parameter or secret name with one
kind of answer. The record names the modules loaded after the stand-in's calls, and ends with what the endpoint
received from each run.

  python3 secretstest.py run

Environment: SECRETSTEST_ENDPOINT (baseline: the node's signing proxy; routed by the node in nexus mode),
AWS_DEFAULT_REGION, and the function's key in baseline.
"""

import json
import sys

from difftest_common import case_list, caught, norm_error, print_suite, scripted_client


# A rotation's new and current versions (version ids: at least 32 characters, UUIDs in practice).
PENDING = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE11111'
CURRENT = 'a1b2c3d4-5678-90ab-cdef-EXAMPLE00000'


def client(service, **retries):
    return scripted_client(service, 'SECRETSTEST_ENDPOINT', **retries)


CASES, case = case_list()


@case
def get_parameter(ssm, _):
    return ssm.get_parameter(Name='/app/db', WithDecryption=True)


@case
def get_parameter_missing_is_modeled(ssm, _):
    try:
        ssm.get_parameter(Name='/app/missing')
    except ssm.exceptions.ParameterNotFound as e:
        return {'caught_as': 'client.exceptions.ParameterNotFound', 'error': norm_error(e)}


@case
def get_parameter_throttled_is_retried(ssm, _):
    return client('ssm', max_attempts=1).get_parameter(Name='/app/throttled')


@case
def get_parameters_some_invalid(ssm, _):
    return ssm.get_parameters(Names=['/app/db', '/app/nope'], WithDecryption=False)


@case
def get_parameters_by_path_pages(ssm, _):
    first = ssm.get_parameters_by_path(Path='/app', Recursive=True, MaxResults=1)
    second = ssm.get_parameters_by_path(Path='/app', Recursive=True, MaxResults=1, NextToken=first['NextToken'])
    return [first, second]


@case
def put_parameter(ssm, _):
    return ssm.put_parameter(Name='/app/new', Value='v', Type='String', Overwrite=True,
                             Tags=[{'Key': 'team', 'Value': 'a'}])


@case
def put_parameter_exists(ssm, _):
    return ssm.put_parameter(Name='/app/db', Value='v', Type='SecureString')


@case
def delete_parameter_outside_the_grants(ssm, _):
    return ssm.delete_parameter(Name='/app/new')


@case
def ssm_parameters_checked(ssm, _):
    return ssm.get_parameters(Names=[], WithDecryption='yes', Bogus=1)


@case
def ssm_service_failure_without_retries(ssm, _):
    return ssm.get_parameter(Name='/app/broken')


@case
def get_secret_string(_, secrets):
    return secrets.get_secret_value(SecretId='db', VersionStage='AWSCURRENT')


@case
def get_secret_binary(_, secrets):
    return secrets.get_secret_value(SecretId='bin')


@case
def secret_missing_is_modeled(_, secrets):
    try:
        secrets.get_secret_value(SecretId='missing')
    except secrets.exceptions.ResourceNotFoundException as e:
        return {'caught_as': 'client.exceptions.ResourceNotFoundException', 'error': norm_error(e)}


@case
def secret_decryption_failure(_, secrets):
    return secrets.get_secret_value(SecretId='undecryptable')


@case
def secret_id_checked(_, secrets):
    return secrets.get_secret_value(SecretId='')


@case
def rotation_steps(_, secrets):
    """A rotation function's four steps (createSecret, setSecret, testSecret, finishSecret) as the AWS templates make them."""
    described = secrets.describe_secret(SecretId='db')
    password = secrets.get_random_password(PasswordLength=24, ExcludeCharacters='/@"\'\\')
    put = secrets.put_secret_value(SecretId='db', ClientRequestToken=PENDING, SecretString=password['RandomPassword'],
                                   VersionStages=['AWSPENDING'])
    pending = secrets.get_secret_value(SecretId='db', VersionId=PENDING, VersionStage='AWSPENDING')
    finished = secrets.update_secret_version_stage(SecretId='db', VersionStage='AWSCURRENT', MoveToVersionId=PENDING,
                                                   RemoveFromVersionId=CURRENT)
    return [described, password, put, pending, finished]


@case
def put_secret_value_binary(_, secrets):
    return secrets.put_secret_value(SecretId='db', ClientRequestToken='a1b2c3d4-5678-90ab-cdef-EXAMPLE22222', SecretBinary=b'\x00\x01key')


@case
def put_secret_value_token_taken(_, secrets):
    try:
        secrets.put_secret_value(SecretId='db', ClientRequestToken='a1b2c3d4-5678-90ab-cdef-EXAMPLEtaken', SecretString='x')
    except secrets.exceptions.ResourceExistsException as e:
        return caught(e, 'ResourceExistsException')


@case
def client_shapes(ssm, secrets):
    return [{'class': type(c).__name__, 'exceptions': type(c.exceptions).__name__,
             'service': c.meta.service_model.service_name} for c in (ssm, secrets)]


@case
def paginator_of_parameters_by_path(ssm, _):
    # The stand-in's paginator from SSM's whole model (paginators-1.json), not the real SDK's.
    pages = ssm.get_paginator('get_parameters_by_path').paginate(Path='/app', Recursive=True, MaxResults=1)
    return [p['Parameters'][0]['Name'] for p in pages]


# Cases that reach the real botocore in nexus mode (the generic path), after the modules are recorded.
GENERIC_CASES, generic = case_list()


@generic
def endpoint_requests(ssm, _):
    """What the endpoint received, in order (its own record, read back through a parameter)."""
    return json.loads(ssm.get_parameter(Name='/received')['Parameter']['Value'])


def main(argv):
    ssm, secrets = client('ssm'), client('secretsmanager')
    print_suite(CASES, GENERIC_CASES, ssm, secrets)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
