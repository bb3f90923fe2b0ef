# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Presigned URLs and RDS authentication tokens of services other than S3 (tests/Nexus.Frontend.Tests,
PresignedUrlStandInTests): what a function gets in nexus mode, where the backend signs them, and what the real botocore
makes of the same calls with the node's key, endpoint and region at the same instant, which they must equal (the same
parameters and signature; botocore's signer and awscrt's order them differently).

  python3 presigntest.py run             as a function; prints the record
  python3 presigntest.py expect RECORD   the real botocore: each URL of RECORD's cases made again at its X-Amz-Date

Environment of expect: PRESIGNTEST_KEY and PRESIGNTEST_SECRET (the node's key), PRESIGNTEST_REGION (the node's
region), PRESIGNTEST_ENDPOINT (the endpoint the node configures for EC2, DynamoDB and STS).
"""

import json
import os
import sys
from urllib.parse import parse_qs, urlsplit

from difftest_common import case_list, print_suite, run_case

CASES, case = case_list()
GENERIC_CASES, generic = case_list()


@case
def db_auth_token(client):
    return client('rds').generate_db_auth_token('db.example.com', 5432, 'app_user')


@case
def db_auth_token_of_another_region_and_host(client):
    # The host keeps its case; the port may be given as text, as botocore takes it.
    return client('rds').generate_db_auth_token('Db-1.Example.com', '3306', 'app_reader', Region='eu-west-1')


@case
def db_auth_token_outside_the_grants(client):
    return client('rds').generate_db_auth_token('db.example.com', 5432, 'admin')


@generic
def ec2_describe_instances(client):
    # Query protocol: the parameters move from the form body into the URL's query.
    return client('ec2').generate_presigned_url('describe_instances', Params={'InstanceIds': ['i-0abc', 'i-0def']},
                                                ExpiresIn=300)


@generic
def ec2_outside_the_grants(client):
    return client('ec2').generate_presigned_url('terminate_instances', Params={'InstanceIds': ['i-0abc']})


@generic
def dynamodb_list_tables(client):
    # JSON protocol: X-Amz-Target and the content type are signed headers the URL's user must send.
    return client('dynamodb').generate_presigned_url('list_tables', Params={'Limit': 5}, ExpiresIn=60)


@generic
def eks_token_url(client):
    # How a function gets a token for an EKS cluster's API: STS's GetCallerIdentity presigned with the cluster's name
    # in a header its handlers add (a client with event handlers is the real botocore's in nexus mode).
    sts = client('sts')

    def take_cluster(params, context, **kwargs):
        context['eks_cluster'] = params.pop('ClusterName')

    def add_cluster_header(request, **kwargs):
        request.headers['x-k8s-aws-id'] = request.context['eks_cluster']
    sts.meta.events.register('provide-client-params.sts.GetCallerIdentity', take_cluster)
    sts.meta.events.register('before-sign.sts.GetCallerIdentity', add_cluster_header)
    return sts.generate_presigned_url('get_caller_identity', Params={'ClusterName': 'prod'}, ExpiresIn=60,
                                      HttpMethod='GET')


@generic
def service_without_an_endpoint(client):
    return client('sns').generate_presigned_url('list_topics')


def _function_client(service):
    import boto3
    return boto3.client(service)


def _expected(record_path):
    """Each case of the record whose result is a URL, made again by the real botocore at the URL's X-Amz-Date."""
    import datetime

    import boto3
    import botocore.auth

    session = boto3.session.Session(aws_access_key_id=os.environ['PRESIGNTEST_KEY'],
                                    aws_secret_access_key=os.environ['PRESIGNTEST_SECRET'],
                                    region_name=os.environ['PRESIGNTEST_REGION'])

    def client(service):
        return session.client(service, endpoint_url=os.environ['PRESIGNTEST_ENDPOINT'])

    real_datetime, real_timezone = datetime.datetime, datetime.timezone

    class _Frozen(real_datetime):
        at = None

        @classmethod
        def utcnow(cls):
            return cls.at

    class _Clock:
        datetime = _Frozen
        timezone = real_timezone

    botocore.auth.datetime = _Clock
    try:
        import botocore.crt.auth   # with awscrt installed (Debian's python3-awscrt), botocore signs with it
        botocore.crt.auth.datetime = _Clock
    except ImportError:
        pass
    with open(record_path) as f:
        record = json.load(f)
    functions = {fn.__name__: fn for fn in CASES + GENERIC_CASES}
    out = {}
    for entry in record['cases']:
        url = entry.get('result')
        if not isinstance(url, str):
            continue
        stamp = parse_qs(urlsplit(url if '://' in url else 'https://' + url).query)['X-Amz-Date'][0]
        _Frozen.at = real_datetime.strptime(stamp, '%Y%m%dT%H%M%SZ')
        made = run_case(functions[entry['case']], client)
        out[entry['case']] = {'given': _canonical(url),
                              'made': _canonical(made['result']) if isinstance(made.get('result'), str) else made}
    print(json.dumps(out, indent=1, sort_keys=True))


def _canonical(url):
    """A URL or token as [scheme, host, path, its query's (name, value) pairs in order of name]: botocore's own signer
    and awscrt's (which botocore uses when awscrt is installed) write the same parameters in different orders."""
    from urllib.parse import parse_qsl
    parts = urlsplit(url if '://' in url else 'https://' + url)
    return [parts.scheme, parts.netloc, parts.path, sorted(parse_qsl(parts.query, keep_blank_values=True))]


if __name__ == '__main__':
    if sys.argv[1:2] == ['run']:
        print_suite(CASES, GENERIC_CASES, _function_client)
    elif sys.argv[1:2] == ['expect']:
        _expected(sys.argv[2])
    else:
        sys.exit(__doc__)
