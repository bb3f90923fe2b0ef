# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: CopyObject."""

from difftest_common import BUCKET, DENIED, P, case


@case
def copy_dict_source(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'copy1', CopySource={'Bucket': BUCKET, 'Key': P + 'text.txt'})


@case
def copy_keeps_metadata(s3):
    return s3.head_object(Bucket=BUCKET, Key=P + 'copy1')


@case
def copy_str_source(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'copy2', CopySource=f'{BUCKET}/{P}bytes')


@case
def copy_replace_metadata(s3):
    s3.copy_object(Bucket=BUCKET, Key=P + 'copy3', CopySource={'Bucket': BUCKET, 'Key': P + 'text.txt'},
                   MetadataDirective='REPLACE', ContentType='application/x-replaced', Metadata={'new': 'meta'})
    return s3.head_object(Bucket=BUCKET, Key=P + 'copy3')


@case
def copy_missing_source(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'copy4', CopySource={'Bucket': BUCKET, 'Key': P + 'nope'})


@case
def copy_to_denied(s3):
    return s3.copy_object(Bucket=DENIED, Key='copy', CopySource={'Bucket': BUCKET, 'Key': P + 'bytes'})


@case
def copy_from_denied(s3):
    return s3.copy_object(Bucket=BUCKET, Key=P + 'stolen', CopySource={'Bucket': DENIED, 'Key': 'secret'})
