# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""botocore's read_timeout on S3 calls, against a store slower to answer than the timeout (its first byte delayed): the
same calls in both modes, compared by the harness (tests/Nexus.Frontend.Tests/S3ReadTimeoutTests.cs).

  python3 s3timeout.py setup   write the object the cases read (baseline, so that it is in the store itself)
  python3 s3timeout.py run     run the cases, print {"cases": [...]}

Environment: as difftest.py, plus S3TIMEOUT_SLOW_SECONDS, the store's first-byte delay.
"""

import os
import sys
import time

import boto3
from botocore.config import Config

from difftest_common import BUCKET, body, print_suite

KEY = 'dt/timeout/object'
DATA = body(4096, 77)
SLOW = float(os.environ.get('S3TIMEOUT_SLOW_SECONDS', '1.5'))


def _client(**config):
    return boto3.client('s3', endpoint_url=os.environ.get('NEXUS_S3_ENDPOINT'), config=Config(**config))


def _timed(call):
    """The call's outcome (its exception's class name when it raised) and how long it took, in whole read timeouts."""
    start = time.monotonic()
    try:
        outcome = call()
    except Exception as e:  # the class is the result; the message names an endpoint that differs between the modes
        outcome = type(e).__name__
    return outcome, time.monotonic() - start


def get_slower_than_the_timeout_is_retried_then_raised():
    # Legacy mode, one retry: two attempts of 0.5 s each before ReadTimeoutError (and a backoff under 1 s between).
    client = _client(read_timeout=0.5, retries={'max_attempts': 1})
    outcome, took = _timed(lambda: client.get_object(Bucket=BUCKET, Key=KEY)['Body'].read())
    return {'outcome': outcome, 'both_attempts_waited': took >= 1.0, 'before_the_store_answered_twice': took < 2 * SLOW + 1}


def head_slower_than_the_timeout_without_retries():
    client = _client(read_timeout=0.5, retries={'max_attempts': 0})
    outcome, took = _timed(lambda: client.head_object(Bucket=BUCKET, Key=KEY)['ContentLength'])
    return {'outcome': outcome, 'waited_the_timeout': took >= 0.5, 'did_not_wait_for_the_store': took < SLOW}


def listing_in_standard_mode():
    # Standard mode retries a read timeout too (taking 10 from the client's retry quota).
    client = _client(read_timeout=0.5, retries={'mode': 'standard', 'max_attempts': 2})
    outcome, took = _timed(lambda: client.list_objects_v2(Bucket=BUCKET, Prefix='dt/timeout/')['KeyCount'])
    return {'outcome': outcome, 'both_attempts_waited': took >= 1.0}


def get_within_the_timeout():
    client = _client(read_timeout=SLOW + 5, retries={'max_attempts': 0})
    outcome, _ = _timed(lambda: client.get_object(Bucket=BUCKET, Key=KEY)['Body'].read() == DATA)
    return {'outcome': outcome}


CASES = [get_slower_than_the_timeout_is_retried_then_raised, head_slower_than_the_timeout_without_retries,
         listing_in_standard_mode, get_within_the_timeout]


def main(argv):
    if argv[1:] == ['setup']:
        _client(read_timeout=SLOW + 5).put_object(Bucket=BUCKET, Key=KEY, Body=DATA)
        return 0
    print_suite(CASES, [])
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
