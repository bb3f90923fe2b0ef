# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: buckets."""

import botocore
import botocore.exceptions

from difftest_common import BUCKET, DENIED, MISSING, case


@case
def head_bucket_ok(s3):
    return s3.head_bucket(Bucket=BUCKET, ExpectedBucketOwner='123456789012')


@case
def head_bucket_missing(s3):
    return s3.head_bucket(Bucket=MISSING)


@case
def head_bucket_denied(s3):
    return s3.head_bucket(Bucket=DENIED)


@case
def head_bucket_invalid_name(s3):
    return s3.head_bucket(Bucket='bad/name')


@case
def create_bucket_denied(s3):
    # Buckets belong to the node: a function may never create one, in either mode.
    return s3.create_bucket(Bucket=BUCKET + '-new', CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})


@case
def validation_create_bucket_configuration(s3):
    return s3.create_bucket(Bucket=BUCKET + '-new', CreateBucketConfiguration={'Location': 'x'})


@case
def list_buckets_shows_granted(s3):
    return s3.list_buckets()


@case
def bucket_exists_pattern(s3):
    # The common "does the bucket exist" idiom: head_bucket and the error's status code.
    out = {}
    for name in (BUCKET, MISSING, DENIED):
        try:
            s3.head_bucket(Bucket=name)
            out[name] = 'exists'
        except botocore.exceptions.ClientError as e:
            out[name] = int(e.response['Error']['Code'])
    return out
