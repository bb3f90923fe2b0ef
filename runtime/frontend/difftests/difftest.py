# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Differential test of the S3 surface: the same calls, run by real boto3 (baseline) and by the stand-in (nexus).

Written like handler code: it imports boto3 and never asks which one it got.
Each case prints a normalized record of its result or error; the harness
(tests/Nexus.Frontend.Tests) runs the script in both modes and compares the
records, which must be equal.

  python3 difftest.py setup            create the buckets (baseline only, admin key)
  python3 difftest.py run [--large-mib N] [--only a,b]   run every case (or those named), print
                                       {"cases": [...], "modules": [...]}

The cases live in difftest_cases/, one module per family of calls, and run in the order listed below;
difftest_common.py holds what they share.

Environment: DIFFTEST_BUCKET, DIFFTEST_DENIED_BUCKET, DIFFTEST_MISSING_BUCKET,
DIFFTEST_WORKDIR (scratch folder, same path in both modes), NEXUS_S3_ENDPOINT
(baseline: the store; ignored by the stand-in), AWS_* credentials (baseline).

Normalization touches only what differs between two runs of the same client:
RequestId/HostId values, HTTPHeaders (transport detail), datetime values
(recorded as type and timezone; ordering is checked by explicit cases), and the
random suffix s3transfer gives its temporary download files.
"""

import importlib
import json
import os
import sys

import boto3
import botocore

from difftest_cases.objects import CRC32_KEY
from difftest_common import BUCKET, CASES, DENIED, EMPTY, P, WORKDIR, body, client, file_digest, norm, norm_error

# The families of cases, in the order they run (the order of the single file they were split from).
CASE_MODULES = ('objects', 'stored_headers', 'buckets', 'tagging', 'handler_imports', 'streaming_body', 'head_object',
                'delete', 'listing', 'copy_object', 'transfers', 'resource_api', 'validation', 'multipart',
                'multipart_checksums', 'presigned', 'client_surface')
for _module in CASE_MODULES:
    importlib.import_module(f'difftest_cases.{_module}')


def _large(s3, mib):
    data_path = os.path.join(WORKDIR, 'large-up')
    with open(data_path, 'wb') as f:
        block = body(1 << 20, 17)
        for i in range(mib):
            f.write(block[i % 7:] + block[:i % 7])
    seen_up, seen_down = [], []
    s3.upload_file(data_path, BUCKET, P + 'large', Callback=seen_up.append)
    head = s3.head_object(Bucket=BUCKET, Key=P + 'large')
    out = os.path.join(WORKDIR, 'large-down')
    s3.download_file(BUCKET, P + 'large', out, Callback=seen_down.append)
    ranged = s3.get_object(Bucket=BUCKET, Key=P + 'large', Range=f'bytes={(mib << 20) - 10}-')
    result = {'source': file_digest(data_path), 'downloaded': file_digest(out), 'callback_up': sum(seen_up),
              'callback_down': sum(seen_down), 'content_length': head['ContentLength'],
              'etag': head['ETag'], 'tail': norm(ranged['Body'].read())}
    os.remove(out)
    os.remove(data_path)
    return result


def run_case(fn, s3):
    try:
        value = fn(s3)
        return {'case': fn.__name__, 'result': norm(value)}
    except Exception as e:  # every outcome, error or not, is part of the record
        return {'case': fn.__name__, 'error': norm_error(e)}


def clean(s3):
    paginator = s3.get_paginator('list_objects_v2')
    for page in paginator.paginate(Bucket=BUCKET, Prefix='dt/'):
        keys = [{'Key': c['Key']} for c in page.get('Contents', [])]
        if keys:
            s3.delete_objects(Bucket=BUCKET, Delete={'Objects': keys, 'Quiet': True})


def main(argv):
    command = argv[1] if len(argv) > 1 else 'run'
    s3 = client()
    if command == 'setup':
        for name in (BUCKET, DENIED, EMPTY):
            s3.create_bucket(Bucket=name)
        s3.put_object(Bucket=DENIED, Key='secret', Body=b'not for the function')
        s3.put_object(Bucket=BUCKET, Key=CRC32_KEY, Body=body(3000, 5), ChecksumAlgorithm='CRC32')
        print(json.dumps({'setup': 'ok'}))
        return 0
    large_mib = int(argv[argv.index('--large-mib') + 1]) if '--large-mib' in argv else 0
    only = argv[argv.index('--only') + 1].split(',') if '--only' in argv else None
    os.makedirs(WORKDIR, exist_ok=True)
    for name in os.listdir(WORKDIR):
        path = os.path.join(WORKDIR, name)
        if os.path.isfile(path):
            os.remove(path)
    clean(s3)
    records = [run_case(fn, s3) for fn in CASES if only is None or fn.__name__ in only]
    if large_mib:
        def large_object_transfer(client):
            return _large(client, large_mib)
        records.append(run_case(large_object_transfer, s3))
    clean(s3)
    suspicious = ('socket', 'ssl', 'http.client', 'urllib3', 'requests', 'email', 'dateutil',
                  's3transfer')  # concurrent.futures is the script's own (threads case)
    print(json.dumps({'mode': os.environ.get('NEXUS_IO', 'baseline'), 'boto3': boto3.__version__,
                      'botocore': botocore.__version__, 'boto3_file': boto3.__file__,
                      'botocore_file': botocore.__file__,
                      'modules': [m for m in suspicious if m in sys.modules],
                      'cases': records}, indent=1, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
