# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the stand-in's model-read clients (services without an own client, served from their models:
_nexus_model_clients.py): Rekognition and Cognito user pools (JSON protocol), X-Ray (REST-JSON), ElastiCache (query),
EC2 (its own protocol, and its boto3 resource: boto3/resources/factory.py), CloudFront and Route 53 (REST-XML) and
IAM (query, its policy documents decoded as botocore's handler does), EC2's and Auto Scaling's user data and EC2's
console output and CloudFormation's template body (botocore's handlers, reproduced by the stand-in),
the same calls by real boto3 (baseline, through the node's signing proxy) and by the stand-in (nexus, over the channel,
without the real botocore), against one scripted endpoint (tests/Nexus.Frontend.Tests, ModelReadStandInTests). The
record names the modules loaded after the stand-in's calls, and ends with what the endpoint received.

  python3 modelreadtest.py run

Environment: MODELREADTEST_ENDPOINT (baseline: the node's signing proxy; routed by the node in nexus mode),
AWS_DEFAULT_REGION, and the function's key in baseline.
"""

import datetime
import json
import os
import sys

import boto3
from botocore.config import Config

from difftest_common import case_list, caught, print_suite, scripted_client


def client(service, **retries):
    return scripted_client(service, 'MODELREADTEST_ENDPOINT', **retries)


def ec2_resource():
    """boto3.resource('ec2') on the suite's scripted endpoint, as client() makes clients."""
    return boto3.resource('ec2', endpoint_url=os.environ.get('MODELREADTEST_ENDPOINT'),
                          config=Config(retries={'max_attempts': 0}))


CASES, case = case_list()
UTC = datetime.timezone.utc


@case
def detect_labels(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return rekognition.detect_labels(Image={'S3Object': {'Bucket': 'photos', 'Name': 'cats/tabby.jpg'}},
                                     MaxLabels=5, MinConfidence=80.5)


@case
def detect_text_in_bytes(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return rekognition.detect_text(Image={'Bytes': b'\x89PNG\r\n\x1a\n\x00\xff'})


@case
def missing_image_is_modeled(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    try:
        rekognition.detect_labels(Image={'S3Object': {'Bucket': 'missing', 'Name': 'x.jpg'}})
    except rekognition.exceptions.InvalidS3ObjectException as e:
        return caught(e, 'InvalidS3ObjectException')


@case
def image_checked_before_sending(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return rekognition.detect_labels(Image={'S3Object': {'Bucket': 'photos', 'Name': 'x', 'Tag': 1}}, MaxLabels='5')


@case
def admin_get_user(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return cognito.admin_get_user(UserPoolId='us-east-1_pool', Username='ada')


@case
def unknown_user_is_modeled(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    try:
        cognito.admin_get_user(UserPoolId='us-east-1_pool', Username='nobody')
    except cognito.exceptions.UserNotFoundException as e:
        return caught(e, 'UserNotFoundException')


@case
def throttled_user_pool_is_retried(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    retried = client('cognito-idp', max_attempts=1)
    return retried.admin_get_user(UserPoolId='us-east-1_pool', Username='busy')


@case
def put_trace_segments(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return xray.put_trace_segments(TraceSegmentDocuments=[
        json.dumps({'name': 'fn', 'id': '70de5b6f19ff9a0a', 'trace_id': '1-581cf771-a006649127e371903a2de979'}),
        json.dumps({'name': 'fn', 'id': 'bad'})])


@case
def trace_summaries_in_a_window(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return xray.get_trace_summaries(StartTime=datetime.datetime(2026, 12, 6, 12, 0, 0, 500000, tzinfo=UTC),
                                    EndTime='2026-12-06T13:00:00Z', FilterExpression='service("fn")', Sampling=True)


@case
def describe_cache_clusters(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return elasticache.describe_cache_clusters(CacheClusterId='sessions', ShowCacheNodeInfo=True)


@case
def missing_cluster_is_modeled(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    try:
        elasticache.describe_cache_clusters(CacheClusterId='gone')
    except elasticache.exceptions.CacheClusterNotFoundFault as e:
        return caught(e, 'CacheClusterNotFoundFault')


@case
def describe_instances(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    # Filters: boto3's name (the model's member is Filters here; the form says Filter.N as EC2 wants).
    return ec2.describe_instances(InstanceIds=['i-0abc'], Filters=[{'Name': 'tag:app', 'Values': ['web', 'api']}])


@case
def missing_instance_is_an_error(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return ec2.describe_instances(InstanceIds=['i-gone'])


@case
def create_invalidation(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    # The classic function after a deploy to S3: the paths to invalidate as CloudFront's XML document.
    return cloudfront.create_invalidation(DistributionId='E2QWRUHEXAMPLE', InvalidationBatch={
        'Paths': {'Quantity': 2, 'Items': ['/index.html', '/assets/*']}, 'CallerReference': 'deploy-42'})


@case
def missing_distribution_is_modeled(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    try:
        cloudfront.get_distribution(Id='EGONE')
    except cloudfront.exceptions.NoSuchDistribution as e:
        return caught(e, 'NoSuchDistribution')


@case
def instances_of_a_resource_collection(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    # boto3.resource('ec2'): a collection filtered, its Instance resources built from the pages (their data the
    # answer's), attributes read without another call; made from resources-1.json over the model-read client.
    resource = ec2_resource()
    instances = list(resource.instances.filter(InstanceIds=['i-0abc']))
    return [repr(resource.instances), [(repr(i), i.instance_type, i.state, i.tags, i.launch_time) for i in instances]]


@case
def resource_loads_its_attributes(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    instance = ec2_resource().Instance('i-0abc')
    return [type(instance).__name__, instance.private_ip_address, instance.vpc_id, repr(instance.vpc),
            instance.ebs_optimized]


@case
def role_policy_is_a_document(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    # IAM answers a policy document URL-encoded; botocore's handler (and the stand-in's model-read client) make it a
    # dict.
    return client('iam').get_role_policy(RoleName='reader', PolicyName='read-orders')


@case
def hosted_zone_by_its_path(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    # Route 53 takes the id another call answered ('/hostedzone/Z1'): botocore's handler sends its last part.
    return client('route53').get_hosted_zone(Id='/hostedzone/Z1EXAMPLE')


@case
def run_instances_with_user_data(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    # botocore base64-encodes UserData (text or bytes) before it checks the parameters.
    # ClientToken given: botocore's idempotency token is random otherwise.
    return ec2.run_instances(ImageId='ami-0abc', MinCount=1, MaxCount=1, InstanceType='t3.micro', ClientToken='boot-1',
                             UserData='#!/bin/sh\necho héllo > /tmp/boot\n')


@case
def user_data_that_is_not_text_or_bytes(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return ec2.run_instances(ImageId='ami-0abc', MinCount=1, MaxCount=1, UserData=42)


@case
def console_output_is_decoded(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    # The answer's Output is base64; botocore decodes it (bytes that are not UTF-8 replaced).
    return ec2.get_console_output(InstanceId='i-0abc')


@case
def console_output_that_is_not_base64_stays(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return ec2.get_console_output(InstanceId='i-raw')


@case
def launch_configuration_user_data(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return client('autoscaling').create_launch_configuration(
        LaunchConfigurationName='web', ImageId='ami-0abc', InstanceType='t3.micro', UserData=b'\x00\xffboot')


@case
def json_template_is_a_dict(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    result = client('cloudformation').get_template(StackName='json-stack')
    return [type(result['TemplateBody']).__name__, list(result['TemplateBody']), result]


@case
def yaml_template_stays_text(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return client('cloudformation').get_template(StackName='yaml-stack')


@case
def client_class_names(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    return [type(c).__name__ for c in (rekognition, cognito, xray, elasticache, ec2, cloudfront)]


@case
def endpoint_requests(rekognition, cognito, xray, elasticache, ec2, cloudfront):
    """What the endpoint received, in order (its own record, read back as an error's message)."""
    try:
        rekognition.detect_labels(Image={'S3Object': {'Bucket': 'received', 'Name': 'x'}})
    except rekognition.exceptions.InvalidParameterException as e:
        return json.loads(e.response['Error']['Message'])


def main(argv):
    print_suite(CASES, [], client('rekognition'), client('cognito-idp'), client('xray'), client('elasticache'),
                client('ec2'), client('cloudfront'))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
