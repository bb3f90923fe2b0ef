# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""What every difftest case shares: the buckets, the client, the case registry and the record's normalization.

Written like handler code: it imports boto3 and never asks which one it got (real boto3 in baseline, the stand-in in
nexus mode).
"""

import datetime
import hashlib
import inspect
import json
import os
import re
import sys
import urllib.parse

import boto3
import botocore
import botocore.exceptions
from botocore.config import Config

BUCKET = os.environ.get('DIFFTEST_BUCKET', 'nexus-difftest')
DENIED = os.environ.get('DIFFTEST_DENIED_BUCKET', 'nexus-difftest-denied')
MISSING = os.environ.get('DIFFTEST_MISSING_BUCKET', 'nexus-difftest-missing')
EMPTY = os.environ.get('DIFFTEST_EMPTY_BUCKET', 'nexus-difftest-empty')
WORKDIR = os.environ.get('DIFFTEST_WORKDIR', '/tmp/nexus-difftest')
P = 'dt/'


def client():
    # Unchanged handler style: an endpoint for the baseline store; the stand-in ignores it.
    return boto3.client('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'),
                        config=Config(retries={'max_attempts': 1}))


def resource():
    return boto3.resource('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'))


_TEMP_SUFFIX = re.compile(r'\.[0-9a-fA-F]{8}\b')


def norm(value):
    """JSON-able, run-independent form of a boto3 result."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == 'ResponseMetadata':
                out[key] = {
                    'HTTPStatusCode': item.get('HTTPStatusCode'),
                    'RetryAttempts': item.get('RetryAttempts'),
                    'RequestId': '<set>' if item.get('RequestId') else item.get('RequestId', '<absent>'),
                    'HostId': '<set>' if item.get('HostId') else item.get('HostId', '<absent>'),
                }
            else:
                out[key] = norm(item)
        return out
    if isinstance(value, (list, tuple)):
        return [norm(item) for item in value]
    if isinstance(value, datetime.datetime):
        offset = value.utcoffset()
        return {'<datetime>': 'aware' if offset is not None else 'naive',
                'utcoffset': None if offset is None else offset.total_seconds()}
    if isinstance(value, (bytes, bytearray)):
        return {'<bytes>': len(value), 'sha256': hashlib.sha256(value).hexdigest()[:16],
                'head': bytes(value[:32]).decode('latin-1')}
    if hasattr(value, 'read') and hasattr(value, 'iter_chunks'):
        return {'<StreamingBody>': norm(value.read())}
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return {'<object>': type(value).__name__}


def norm_error(error):
    record = {'exception': f'{type(error).__module__}.{type(error).__qualname__}',
              'message': _TEMP_SUFFIX.sub('.<tmp>', str(error))}
    if isinstance(error, botocore.exceptions.ClientError):
        record['operation_name'] = error.operation_name
        record['response'] = norm(error.response)
        record['is_client_error'] = True
    return record


def caught(error, name):
    """A modeled error a case caught through client.exceptions.NAME: which class, and the error."""
    return {'caught_as': f'client.exceptions.{name}', 'error': norm_error(error)}


CASES = []


def case(fn):
    """Registers a case. A case takes the client and nothing else: anything else registered by mistake would fail
    the same way in both modes, and so compare equal, instead of being run."""
    parameters = list(inspect.signature(fn).parameters)
    if parameters != ['s3']:
        raise TypeError(f'difftest case {fn.__module__}.{fn.__name__} must take (s3), not ({", ".join(parameters)})')
    CASES.append(fn)
    return fn


def case_list():
    """A suite's own list of cases and the decorator that adds to it (s3generic.py and the modules it runs)."""
    cases = []

    def add(fn):
        cases.append(fn)
        return fn

    return cases, add


# Modules of the real SDK's HTTP stack: a suite of the stand-in's own clients records which are loaded after its cases.
HTTP_STACK = ('urllib3', 'http.client', 'ssl')


def scripted_client(service, endpoint_variable, **retries):
    """A client of a suite's scripted service: the endpoint its variable names (the signing proxy in baseline; unset in
    nexus mode, where the node routes), no retries unless the case asks for them."""
    return boto3.client(service, endpoint_url=os.environ.get(endpoint_variable),
                        config=Config(retries=retries or {'max_attempts': 0}))


def print_suite(cases, generic_cases, *clients):
    """Runs a suite of the stand-in's own clients (each case takes ``clients``): its cases, the HTTP stack's modules
    then loaded (none may be in nexus mode), then the cases that reach the real SDK; prints the record."""
    records = [run_case(fn, *clients) for fn in cases]
    modules = [m for m in HTTP_STACK if m in sys.modules]
    records += [run_case(fn, *clients) for fn in generic_cases]
    print(json.dumps({'mode': os.environ.get('NEXUS_IO', 'baseline'), 'boto3_file': boto3.__file__,
                      'botocore_file': botocore.__file__, 'modules': modules, 'cases': records},
                     indent=1, sort_keys=True))


def run_case(fn, *clients):
    try:
        return {'case': fn.__name__, 'result': norm(fn(*clients))}
    except Exception as e:  # every outcome, error or not, is part of the record
        return {'case': fn.__name__, 'error': norm_error(e)}


def body(n, seed=0):
    return bytes((i * 31 + seed) % 251 for i in range(n))


def big_body(n, seed):
    return (body(1 << 20, seed) * (n // (1 << 20) + 1))[:n]


def work_file(name, data=None):
    """A file in the scratch folder (the same path in both modes), written with data when given."""
    path = os.path.join(WORKDIR, name)
    if data is not None:
        with open(path, 'wb') as f:
            f.write(data)
    return path


def file_digest(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return {'size': os.path.getsize(path), 'sha256': h.hexdigest()[:16]}


# ---- presigned URLs, fetched as a plain HTTP client in another process would (no SDK, no credentials) ----------

FETCH_SCRIPT = """
import hashlib, json, sys, urllib.request, urllib.error
method, url, headers = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
data = sys.stdin.buffer.read() if method == 'PUT' else None
request = urllib.request.Request(url, data=data, method=method, headers=headers)
try:
    with urllib.request.urlopen(request) as r:
        status, payload = r.status, r.read()
except urllib.error.HTTPError as e:
    status, payload = e.code, e.read()
code = payload.split(b'<Code>')[1].split(b'</Code>')[0].decode() if b'<Code>' in payload else None
# An error document names its request id: only its code is compared.
digest = hashlib.sha256(payload).hexdigest()[:16] if status < 300 else None
print(json.dumps({'status': status, 'sha256': digest, 'code': code}))
"""


def fetch(method, url, data=b'', headers=None):
    import subprocess
    done = subprocess.run([sys.executable, '-c', FETCH_SCRIPT, method, url, json.dumps(headers or {})], input=data,
                          capture_output=True, check=True)
    return json.loads(done.stdout)


def url_shape(url):
    from urllib.parse import parse_qsl, urlsplit
    parts = urlsplit(url)
    return {'scheme': parts.scheme, 'path': parts.path, 'query': sorted(k for k, _ in parse_qsl(parts.query))}


def signing_client():
    return boto3.client('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'),
                        config=Config(signature_version='s3v4', retries={'max_attempts': 1}))


def default_signing_client():
    """A client made as most functions make it: botocore 1.29 presigns with SigV2 for it (baseline); nexus mode's
    backend signs SigV4. The URLs differ in shape, so cases with it compare what fetching them does."""
    return boto3.client('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'), config=Config(retries={'max_attempts': 1}))


def signed_headers(url):
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)).get('X-Amz-SignedHeaders')
