# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Adaptive retry mode (botocore/_nexus_adaptive.py) against Debian's botocore: the same timeline of sends and answers
(throttled or not, at scripted times, on a clock that only the script and the waits move) gives the same send rates,
bucket contents, waits and switch-on as botocore's own ClientRateLimiter; and a stand-in client in adaptive mode takes
a token before each attempt and reports each answer, a modeled throttling error as throttling."""

import json
import os
import random
import subprocess
import unittest

import frontend_case  # noqa: F401  (the stand-in first on sys.path)
import boto3
import botocore.client
import botocore.exceptions
from botocore import _nexus_adaptive
from botocore.config import Config


def timeline(seed=7, steps=400):
    """(seconds to move the clock, then 'send' or an answer 'ok'/'throttled'): bursts of sends and answers, throttled
    often in some stretches and never in others."""
    rng = random.Random(seed)
    out = []
    for i in range(steps):
        throttling = (i // 60) % 2 == 1
        out.append([round(rng.uniform(0, 0.3), 3), 'send'])
        answer = 'throttled' if throttling and rng.random() < 0.5 else 'ok'
        out.append([round(rng.uniform(0, 0.05), 3), answer])
    return out


# Runs a timeline through a limiter; the same text runs against botocore's classes (in Debian's python3) and ours.
RUN = '''
def run(steps, limiter, bucket, clock, send, answer):
    out = []
    for advance, what in steps:
        clock.t += advance
        if what == 'send':
            send()
        else:
            answer(what == 'throttled')
        out.append([round(clock.t, 9), round(bucket.max_rate, 9), round(bucket.available_capacity, 9)])
    return out


class FakeClock:
    def __init__(self):
        self.t = 1000.25

    def current_time(self):
        return self.t

    def sleep(self, seconds):
        # At least a microsecond: a wait computed from a rounding residue would not move a clock near 1000 s.
        self.t += max(seconds, 1e-6)
'''

BOTOCORE = RUN + '''
import json, sys, threading
from botocore.retries import adaptive, bucket, throttling


class FakeCondition:
    """TokenBucket's condition: a wait moves the fake clock instead of the real one."""
    def __init__(self, lock, clock):
        self._lock, self._clock = lock, clock
    def __enter__(self):
        return self._lock.__enter__()
    def __exit__(self, *exc):
        return self._lock.__exit__(*exc)
    def wait(self, seconds):
        self._clock.sleep(seconds)
    def notify(self):
        pass


class Detector:
    def is_throttling_error(self, throttled):
        return throttled


clock = FakeClock()
token_bucket = bucket.TokenBucket(max_rate=1, clock=clock)
token_bucket._new_fill_rate_condition = FakeCondition(token_bucket._lock, clock)
limiter = adaptive.ClientRateLimiter(
    rate_adjustor=throttling.CubicCalculator(starting_max_rate=0, start_time=clock.current_time()),
    rate_clocker=adaptive.RateClocker(clock), token_bucket=token_bucket, throttling_detector=Detector(), clock=clock)
steps = json.loads(sys.stdin.read())
print(json.dumps(run(steps, limiter, token_bucket, clock, lambda: limiter.on_sending_request(None),
                     lambda throttled: limiter.on_receiving_response(throttled=throttled))))
'''


@unittest.skipUnless(os.path.isdir('/usr/lib/python3/dist-packages/botocore/retries'),
                     "Debian's botocore (python3-botocore, installed by scripts/setup) is not on this machine")
class RateLimiterAgainstBotocoreTests(unittest.TestCase):
    def test_the_same_timeline_gives_botocores_rates_buckets_and_waits(self):
        steps = timeline()
        env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        run = subprocess.run(['/usr/bin/python3', '-c', BOTOCORE], input=json.dumps(steps), env=env, cwd='/',
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        theirs = json.loads(run.stdout)

        scope = {}
        exec(RUN, scope)
        clock = scope['FakeClock']()
        limiter = _nexus_adaptive.ClientRateLimiter(clock)
        ours = scope['run'](steps, limiter, limiter.token_bucket, clock, limiter.on_sending_request,
                            lambda throttled: limiter.on_receiving_response(throttled))
        # The timeline reaches every branch: waits for a token (the clock moved by more than the script), rates cut
        # and grown back.
        self.assertGreater(theirs[-1][0], sum(advance for advance, _ in steps) + 1)
        self.assertGreater(len({rate for _, rate, _ in theirs}), 100)
        self.assertEqual(theirs, ours)


class AdaptiveClientTests(unittest.TestCase):
    """A stand-in client in adaptive mode, with a limiter that records what the client tells it."""

    class _Recorder:
        def __init__(self):
            self.events = []

        def on_sending_request(self):
            self.events.append('send')

        def on_receiving_response(self, throttled):
            self.events.append('throttled' if throttled else 'answer')

    def setUp(self):
        from botocore import _nexus_responses
        self._sleep = _nexus_responses.time.sleep
        _nexus_responses.time.sleep = lambda seconds: None
        answers = self.answers = []

        class Response:
            def __init__(self, status, code):
                import io
                body = json.dumps({'__type': code, 'message': 'm'} if code else {}).encode()
                headers = {'x-amzn-requestid': 'r', 'content-type': 'application/x-amz-json-1.1'}
                if code:
                    headers['x-amzn-errortype'] = code
                self.status, self.meta, self.body = status, {'Headers': headers}, io.BytesIO(body)

        class Channel:
            def call(self, op, params, body=None, timeout=None):
                return Response(*answers.pop(0))
        botocore.client._set_transport(Channel())

    def tearDown(self):
        from botocore import _nexus_responses
        _nexus_responses.time.sleep = self._sleep
        botocore.client._set_transport(None)

    def test_each_attempt_takes_a_token_and_each_answer_is_reported(self):
        # Identity Store's ThrottlingException is a throttling error, its InternalServerException (500) a transient
        # one: both retried, only the first counted as throttling.
        client = boto3.client('identitystore', region_name='us-east-1', config=Config(retries={'mode': 'adaptive'}))
        recorder = client._limiter = self._Recorder()
        self.answers += [(400, 'ThrottlingException'), (500, 'InternalServerException'), (200, None)]
        client.describe_user(IdentityStoreId='d-1234567890', UserId='u')
        self.assertEqual(recorder.events, ['send', 'throttled', 'send', 'answer', 'send', 'answer'])

    def test_standard_mode_retries_the_operations_modeled_retryable_errors(self):
        client = boto3.client('identitystore', region_name='us-east-1', config=Config(retries={'mode': 'standard'}))
        self.answers += [(500, 'InternalServerException'), (400, 'ThrottlingException'), (200, None)]
        self.assertEqual(client.describe_user(IdentityStoreId='d-1234567890', UserId='u')['ResponseMetadata']
                         ['RetryAttempts'], 2)
        # AccessDeniedException is not retryable: one attempt.
        self.answers += [(400, 'AccessDeniedException')]
        with self.assertRaises(client.exceptions.AccessDeniedException) as caught:
            client.describe_user(IdentityStoreId='d-1234567890', UserId='u')
        self.assertEqual(caught.exception.response['ResponseMetadata']['RetryAttempts'], 0)

    def test_a_modeled_retryable_error_is_retried_only_by_the_operations_that_name_it(self):
        # Redshift Serverless's InsufficientCapacityException (400, retryable by its model alone) is one of
        # UpdateWorkgroup's errors, not GetWorkgroup's; Debian's botocore, against an HTTP server answering the same:
        # 1 retry, then 0, and 0 for ConflictException (tried 2026-12-06).
        client = boto3.client('redshift-serverless', region_name='us-east-1',
                              config=Config(retries={'mode': 'standard'}))
        self.answers += [(400, 'InsufficientCapacityException'), (200, None)]
        self.assertEqual(client.update_workgroup(workgroupName='wg1')['ResponseMetadata']['RetryAttempts'], 1)
        for operation, code in (('get_workgroup', 'InsufficientCapacityException'),
                                ('update_workgroup', 'ConflictException')):
            self.answers[:] = [(400, code), (200, None)]
            with self.assertRaises(botocore.exceptions.ClientError) as caught:
                getattr(client, operation)(workgroupName='wg1')
            self.assertEqual((caught.exception.response['Error']['Code'],
                              caught.exception.response['ResponseMetadata']['RetryAttempts']), (code, 0))


if __name__ == '__main__':
    unittest.main()
