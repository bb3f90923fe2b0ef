# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: CopyObject."""

import botocore.exceptions

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


@case
def copy_str_source_percent_encoded(s3):
    # A string CopySource is the literal "bucket/key" (botocore encodes it, S3 decodes it once): a key passed on still
    # encoded, as an S3 event record names it, is another key, and the copy fails in both modes.
    s3.put_object(Bucket=BUCKET, Key=P + 'src é.txt', Body=b'encoded')
    out = {}
    for name, source in (('encoded', f'{BUCKET}/{P}src%20%C3%A9.txt'), ('literal', f'{BUCKET}/{P}src é.txt')):
        try:
            out[name] = s3.copy_object(Bucket=BUCKET, Key=P + 'copied-' + name, CopySource=source)['CopyObjectResult']['ETag']
        except botocore.exceptions.ClientError as e:
            out[name] = e.response['Error']
    return out
