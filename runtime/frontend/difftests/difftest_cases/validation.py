# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: Parameter validation and the error classes."""

import os

import boto3
import botocore
import botocore.exceptions

from difftest_common import BUCKET, P, case


@case
def validation_missing_key(s3):
    return s3.get_object(Bucket=BUCKET)


@case
def validation_unknown_param(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'x', Body=b'x', Bogus=1)


@case
def validation_bad_types(s3):
    return s3.put_object(Bucket=BUCKET, Key=7, Body=3.5, Metadata={'a': 1}, ContentType=None)


@case
def validation_bad_types_no_metadata(s3):
    return s3.put_object(Bucket=BUCKET, Key=7, Body=3.5, ContentType=None)


@case
def validation_non_ascii_metadata(s3):
    return s3.put_object(Bucket=BUCKET, Key=P + 'x', Body=b'x', Metadata={'name': 'café'})


@case
def validation_empty_key(s3):
    return s3.head_object(Bucket=BUCKET, Key='')


@case
def validation_bad_bucket_name(s3):
    return s3.list_objects_v2(Bucket='not/a/bucket')


@case
def validation_delete_objects_shape(s3):
    return s3.delete_objects(Bucket=BUCKET, Delete={'Objects': [{'Kee': 'x'}], 'Quiet': 'yes'})


@case
def validation_copy_source_dict(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'x', CopySource={'Key': 'x'})


@case
def validation_max_keys_type(s3):
    return s3.list_objects_v2(Bucket=BUCKET, MaxKeys='10')


@case
def error_classes(s3):
    names = ['ClientError', 'ParamValidationError', 'NoCredentialsError', 'BotoCoreError', 'NoRegionError',
             'EndpointConnectionError', 'PartialCredentialsError', 'IncompleteReadError', 'PaginationError']
    return {n: [c.__name__ for c in getattr(botocore.exceptions, n).__mro__] for n in names}


@case
def every_exception_class(s3):
    # Every class a handler can import from botocore.exceptions and boto3.exceptions (botocore's ReadTimeoutError and
    # a few others also derive from the vendored requests' OSErrors: only botocore's and builtin bases are compared).
    import boto3.exceptions

    def classes(module):
        return {name: {'bases': [c.__name__ for c in value.__mro__ if c.__module__ in (module.__name__, 'builtins')],
                       'fmt': getattr(value, 'fmt', None)}
                for name, value in vars(module).items()
                if isinstance(value, type) and issubclass(value, BaseException) and not name.startswith('Nexus')
                and value.__module__ in ('botocore.exceptions', 'boto3.exceptions')}

    timeout = botocore.exceptions.ReadTimeoutError(endpoint_url='https://example.com/')
    return {'botocore': classes(botocore.exceptions), 'boto3': classes(boto3.exceptions),
            'read_timeout': [str(timeout), isinstance(timeout, OSError)]}


@case
def client_shape(s3):
    return {'class': type(s3).__name__, 'region': s3.meta.region_name,
            'can_paginate': [s3.can_paginate('list_objects_v2'), s3.can_paginate('get_object')],
            'exceptions': sorted(n for n in ('NoSuchKey', 'NoSuchBucket', 'NoSuchUpload', 'BucketAlreadyExists')
                                 if issubclass(getattr(s3.exceptions, n), botocore.exceptions.ClientError)),
            'session_client': type(boto3.session.Session().client(
                's3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'))).__name__}


@case
def client_meta_config(s3):
    # client.meta.config is the Config botocore computed for the client (handlers read its region, retries, timeouts),
    # never None, whether or not the client was given one.
    from botocore.config import Config
    endpoint = os.environ.get('NEXUS_S3_ENDPOINT')
    clients = {'case_client': s3, 'no_config': boto3.client('s3', endpoint_url=endpoint),
               'given': boto3.client('s3', endpoint_url=endpoint, region_name='eu-west-1', config=Config(
                   connect_timeout=5, user_agent_extra='my-app/1.0', retries={'total_max_attempts': 3},
                   s3={'addressing_style': 'path'}, parameter_validation=False))}
    out = {}
    for name, c in clients.items():
        config = c.meta.config
        out[name] = {option: getattr(config, option) for option in Config.OPTION_DEFAULTS if option != 'user_agent'}
        out[name]['user_agent'] = [config.user_agent.split(' ')[0], config.user_agent.split(' ')[-1]]
    return out
