# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: what a handler reads of the client and session beyond its calls (the method mapping, a waiter's
configuration, partitions), and clients of services the node does not serve."""

import boto3
import botocore.exceptions
from botocore.config import Config

from difftest_common import case, norm, norm_error


@case
def client_method_mapping_and_dir(s3):
    return {'method_to_api_mapping': s3.meta.method_to_api_mapping,
            'dir': [name for name in dir(s3) if not name.startswith('_')]}


@case
def waiter_configuration(s3):
    waiter = s3.get_waiter('object_not_exists')
    config = waiter.config
    return {'class': type(waiter).__name__, 'name': waiter.name, 'operation': config.operation, 'delay': config.delay,
            'max_attempts': config.max_attempts, 'description': config.description,
            'acceptors': [[a.state, a.matcher, a.expected, a.argument, a.explanation] for a in config.acceptors]}


@case
def session_partition_for_region(s3):
    session = boto3.session.Session()
    out = {region: session.get_partition_for_region(region)
           for region in ('us-east-1', 'eu-central-2', 'cn-north-1', 'us-gov-west-1', 'us-iso-east-1', 'eu-south-9')}
    try:
        out['unknown'] = session.get_partition_for_region('mars-1')
    except botocore.exceptions.BotoCoreError as e:
        out['unknown'] = norm_error(e)
    return out


@case
def services_the_node_does_not_serve(s3):
    # A service with no endpoint in the node's config: a baseline sandbox's real botocore cannot connect to its
    # endpoint (the public one is unreachable from a sandbox; here a port nobody listens on), and nexus mode's node
    # has none to send the call to. The stand-in's own clients (query, JSON) and a model-read one; the real botocore's
    # (generic path) is s3generic's generic_path_service_the_node_does_not_serve.
    unreachable = 'http://127.0.0.1:9'
    calls = {'sqs': ('send_message', {'QueueUrl': unreachable + '/123456789012/q', 'MessageBody': 'm'}),
             'dynamodb': ('get_item', {'TableName': 'orders', 'Key': {'pk': {'S': 'a'}}}),
             'rekognition': ('detect_labels', {'Image': {'Bytes': b'not an image'}})}
    out = {}
    for service, (method, params) in calls.items():
        client = boto3.client(service, endpoint_url=unreachable, region_name='us-east-1',
                              config=Config(retries={'max_attempts': 0}))
        try:
            out[service] = norm(getattr(client, method)(**params))
        except Exception as e:  # the outcome is the record
            out[service] = norm_error(e)
    return out
