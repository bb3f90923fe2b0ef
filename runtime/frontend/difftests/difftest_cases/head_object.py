# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: HeadObject."""

import datetime

from difftest_common import BUCKET, DENIED, MISSING, P, case


@case
def head_existing(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'text.txt')


@case
def head_missing(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'nope')


@case
def head_missing_bucket(s3):
    return s3.head_object(Bucket=MISSING, Key='nope')


@case
def head_denied(s3):
    return s3.head_object(Bucket=DENIED, Key='secret')


@case
def head_if_match_fails(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'bytes', IfMatch='"00000000000000000000000000000000"')


@case
def head_if_none_match(s3):
    etag = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['ETag']
    return s3.head_object(Bucket=BUCKET, Key=P + 'bytes', IfNoneMatch=etag)


@case
def head_range(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'bytes', Range='bytes=0-9')


@case
def last_modified_ordering(s3):
    first = s3.head_object(Bucket=BUCKET, Key=P + 'bytes')['LastModified']
    s3.put_object(Bucket=BUCKET, Key=P + 'later', Body=b'later')
    later = s3.head_object(Bucket=BUCKET, Key=P + 'later')['LastModified']
    listed = {c['Key']: c['LastModified'] for c in s3.list_objects_v2(Bucket=BUCKET, Prefix=P)['Contents']}
    now = datetime.datetime.now(datetime.timezone.utc)
    return {'later_not_before_first': later >= first, 'not_in_future': later <= now + datetime.timedelta(seconds=5),
            'recent': now - later < datetime.timedelta(minutes=10),
            'list_matches_head_to_the_second': abs((listed[P + 'later'] - later).total_seconds()) < 1,
            'head_has_no_fraction': later.microsecond == 0}
