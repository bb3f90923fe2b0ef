# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: StreamingBody."""

from difftest_common import BUCKET, P, norm, case


@case
def body_read_amounts(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')['Body']
    parts = [b.read(4), b.read(0), b.read(10), b.read(), b.read(3), b.read()]
    return {'parts': [norm(p) for p in parts], 'readable': b.readable()}


@case
def body_iter_chunks(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'bytes')['Body']
    return [len(c) for c in b.iter_chunks(chunk_size=300)]


@case
def body_default_iteration(s3):
    return [len(c) for c in s3.get_object(Bucket=BUCKET, Key=P + 'fileobj')['Body']]


@case
def body_iter_lines(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')['Body']
    return [line.decode() for line in b.iter_lines(chunk_size=5)]


@case
def body_iter_lines_keepends(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')['Body']
    return [line.decode() for line in b.iter_lines(keepends=True)]


@case
def body_context_manager(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'text.txt')['Body']
    with b as stream:
        data = stream.read()
    return {'data': data.decode()}


@case
def body_close_early(s3):
    b = s3.get_object(Bucket=BUCKET, Key=P + 'bytes')['Body']
    first = b.read(10)
    b.close()
    return norm(first)
