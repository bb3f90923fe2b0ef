# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Adaptive retry mode's client-side rate limiter, as botocore 1.29 runs it (retries/adaptive.py, bucket.py,
throttling.py): standard mode's retries, and before each attempt a token from a bucket that, once the client has
been throttled, fills at the client's allowed send rate. Each answer adjusts that rate: a throttling answer cuts it to
0.7 of the rate then sent and starts a CUBIC curve that grows it back with time; it never exceeds twice the measured
send rate. One limiter per client, as botocore registers one per client.

What differs: a thread waiting for a token sleeps the time it computed and then looks again, where botocore's waits on a
condition that a rate change wakes: a rate changed by another thread meanwhile counts once that sleep ends.
"""

import _thread
import math
import time


class Clock:
    def current_time(self):
        return time.time()

    def sleep(self, seconds):
        time.sleep(seconds)


class TokenBucket:
    """Tokens at ``max_rate`` a second (at least 0.5), at most max(1, max_rate) held."""

    MIN_RATE = 0.5

    def __init__(self, max_rate, clock):
        self._clock = clock
        self._lock = _thread.allocate_lock()
        self._fill_rate = None
        self._capacity = 0
        self._max_capacity = None
        self._last = None
        self.max_rate = max_rate

    @property
    def max_rate(self):
        return self._fill_rate

    @max_rate.setter
    def max_rate(self, value):
        with self._lock:
            self._refill()
            self._fill_rate = max(value, self.MIN_RATE)
            self._max_capacity = value if value >= 1 else 1
            self._capacity = min(self._capacity, self._max_capacity)

    @property
    def available_capacity(self):
        return self._capacity

    def acquire(self):
        """Takes a token, sleeping until the bucket holds one."""
        while True:
            with self._lock:
                self._refill()
                if self._capacity >= 1:
                    self._capacity -= 1
                    return
                wait = (1 - self._capacity) / self._fill_rate
            self._clock.sleep(wait)

    def _refill(self):
        now = self._clock.current_time()
        if self._last is not None:
            self._capacity = min(self._max_capacity, self._capacity + (now - self._last) * self._fill_rate)
        self._last = now


class CubicCalculator:
    """The send rate after an answer: cut to BETA of the rate on a throttling answer, then grown along
    SCALE * (t - last failure - k)^3 + the rate at that failure, k the time it takes to get back there."""

    SCALE = 0.4
    BETA = 0.7

    def __init__(self, starting_max_rate, start_time):
        self._w_max = starting_max_rate
        self._k = self._zero_point()
        self._last_fail = start_time

    def _zero_point(self):
        return (self._w_max * (1 - self.BETA) / self.SCALE) ** (1 / 3.0)

    def success_received(self, timestamp):
        return self.SCALE * (timestamp - self._last_fail - self._k) ** 3 + self._w_max

    def error_received(self, current_rate, timestamp):
        self._w_max = current_rate
        self._k = self._zero_point()
        self._last_fail = timestamp
        return current_rate * self.BETA


class RateClocker:
    """The client's measured send rate: answers counted in half-second buckets, smoothed exponentially (0.8)."""

    SMOOTHING = 0.8
    BUCKET_SCALE = 2   # buckets of 0.5 s

    def __init__(self, clock):
        self._clock = clock
        self._lock = _thread.allocate_lock()
        self._measured_rate = 0
        self._last_bucket = math.floor(clock.current_time())
        self._count = 0

    def record(self):
        with self._lock:
            bucket = math.floor(self._clock.current_time() * self.BUCKET_SCALE) / self.BUCKET_SCALE
            self._count += 1
            if bucket > self._last_bucket:
                rate = self._count / float(bucket - self._last_bucket)
                self._measured_rate = rate * self.SMOOTHING + self._measured_rate * (1 - self.SMOOTHING)
                self._count = 0
                self._last_bucket = bucket
            return self._measured_rate

    @property
    def measured_rate(self):
        return self._measured_rate


class ClientRateLimiter:
    """A client's limiter: on_sending_request before each attempt, on_receiving_response after each answer (a read
    timeout included), saying whether it was a throttling error."""

    MAX_RATE_ADJUST_SCALE = 2.0

    def __init__(self, clock=None):
        self._clock = clock or Clock()
        self._rate_adjustor = CubicCalculator(starting_max_rate=0, start_time=self._clock.current_time())
        self._rate_clocker = RateClocker(self._clock)
        self.token_bucket = TokenBucket(max_rate=1, clock=self._clock)
        self.enabled = False
        self._lock = _thread.allocate_lock()

    def on_sending_request(self):
        if self.enabled:
            self.token_bucket.acquire()

    def on_receiving_response(self, throttled):
        measured_rate = self._rate_clocker.record()
        timestamp = self._clock.current_time()
        with self._lock:
            if not throttled:
                new_rate = self._rate_adjustor.success_received(timestamp)
            else:
                rate = measured_rate if not self.enabled else min(measured_rate, self.token_bucket.max_rate)
                new_rate = self._rate_adjustor.error_received(rate, timestamp)
                self.enabled = True
            self.token_bucket.max_rate = min(new_rate, self.MAX_RATE_ADJUST_SCALE * measured_rate)
