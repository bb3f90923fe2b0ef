# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The runtime's malloc policy (nexus_runtime.heap): a warm process reuses the heap its last invocation freed."""

import os
import subprocess
import sys
import threading
import time
import unittest

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if RUNTIME_DIR not in sys.path:
    sys.path.insert(0, RUNTIME_DIR)

from nexus_runtime import bootstrap, heap  # noqa: E402
from nexus_runtime.sources import Invocation, InvocationSource  # noqa: E402

# An invocation's shape as image-rotate's: three ~8 MiB buffers made, written and freed. Before the loop one such block
# is freed from a mapping, so glibc's own rule raises its thresholds to that size (the state a process reaches by
# chance): from then on every call's buffers come from the heap and are trimmed away and faulted in again when freed.
_CALLS = """
import resource, sys
sys.path.insert(0, sys.argv[1])
if sys.argv[2] == "keep":
    from nexus_runtime import heap
    assert heap.keep_freed_heap()
SIZE = 8 << 20
first = bytearray(SIZE)
del first
def call():
    buffers = [bytearray(SIZE) for _ in range(3)]
    for b in buffers:
        b[::4096] = b"x" * (SIZE // 4096)
call()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(10):
    call()
print((resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 10)
"""


# Resident kB with the call's buffers freed into the kept heap, then after the idle trim.
_TRIM = """
import sys
sys.path.insert(0, sys.argv[1])
from nexus_runtime import heap
assert heap.keep_freed_heap()
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
buffers = [bytearray(8 << 20) for _ in range(3)]
for b in buffers:
    b[::4096] = b"x" * ((8 << 20) // 4096)
del buffers, b
kept = rss()
heap.malloc_trim()
print(kept, rss())
"""


# Faults of a call shaped like image-rotate's (three 8 MiB buffers) right after the idle trim gave the heap back.
_AFTER_TRIM = """
import resource, sys
sys.path.insert(0, sys.argv[1])
from nexus_runtime import heap
assert heap.keep_freed_heap()
def call():
    buffers = [bytearray(8 << 20) for _ in range(3)]
    for b in buffers:
        b[::4096] = b"x" * ((8 << 20) // 4096)
call()
faults = []
for _ in range(5):
    heap.malloc_trim()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    call()
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(sorted(faults)[2])
"""


def faults_after_trim(tunables):
    env = {k: v for k, v in os.environ.items() if k != "GLIBC_TUNABLES"}
    if tunables:
        env["GLIBC_TUNABLES"] = tunables
    out = subprocess.run([sys.executable, "-c", _AFTER_TRIM, RUNTIME_DIR], capture_output=True, text=True, check=True, env=env)
    return int(out.stdout)


def _huge_pages_on_request():
    try:
        with open(heap.THP_CONTROL) as f:
            return "[never]" not in f.read()
    except OSError:
        return False


def faults_per_call(policy):
    out = subprocess.run([sys.executable, "-c", _CALLS, RUNTIME_DIR, policy], capture_output=True, text=True, check=True)
    return int(out.stdout)


class HeapTests(unittest.TestCase):
    def test_freed_buffers_are_reused_by_the_next_call_not_faulted_in_again(self):
        pages = 3 * (8 << 20) // 4096
        # Without the policy the process pays for every page of every call: what the test must be able to see.
        self.assertGreater(faults_per_call("default"), pages // 2)
        self.assertLess(faults_per_call("keep"), pages // 20)


class HugePageHeapTests(unittest.TestCase):
    @unittest.skipUnless(_huge_pages_on_request(), "the kernel gives no transparent huge pages on request (THP never)")
    def test_a_trimmed_heap_faults_back_in_with_huge_pages(self):
        pages = 3 * (8 << 20) // 4096
        # On 4 KiB pages a call after the trim faults in every page; malloc on huge pages, a few dozen.
        self.assertGreater(faults_after_trim(None), pages // 2)
        self.assertLess(faults_after_trim("glibc.malloc.hugetlb=1"), pages // 20)

    def test_the_idle_time_is_short_only_where_the_heap_is_on_huge_pages(self):
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            control = os.path.join(tmp, "enabled")
            on = {"GLIBC_TUNABLES": "glibc.malloc.hugetlb=1"}
            with open(control, "w") as f:
                f.write("always [madvise] never\n")
            self.assertTrue(heap.heap_on_huge_pages(on, control))
            self.assertTrue(heap.heap_on_huge_pages({"GLIBC_TUNABLES": "glibc.malloc.arena_max=2:glibc.malloc.hugetlb=1"}, control))
            self.assertFalse(heap.heap_on_huge_pages({}, control))
            self.assertFalse(heap.heap_on_huge_pages({"GLIBC_TUNABLES": "glibc.malloc.hugetlb=0"}, control))
            with open(control, "w") as f:
                f.write("always madvise [never]\n")
            self.assertFalse(heap.heap_on_huge_pages(on, control))
            self.assertFalse(heap.heap_on_huge_pages(on, os.path.join(tmp, "absent")))


class IdleTrimTests(unittest.TestCase):
    def setUp(self):
        self.trims = 0

        def trim():
            self.trims += 1

        self.idle = heap.IdleTrim(trim=trim)

    def test_an_instance_idle_for_a_whole_look_is_trimmed_once(self):
        self.idle.begin()
        self.idle.end()
        seen = self.idle.look(-1)  # the call ended during this look: not idle for a whole one yet
        self.assertEqual(0, self.trims)
        seen = self.idle.look(seen)
        self.assertEqual(1, self.trims)
        self.idle.look(self.idle.look(seen))  # still idle: already given back
        self.assertEqual(1, self.trims)

    def test_calls_between_looks_keep_the_heap(self):
        seen = self.idle.look(-1)
        for _ in range(5):
            self.idle.begin()
            self.idle.end()
            seen = self.idle.look(seen)
        self.assertEqual(0, self.trims)

    def test_a_call_running_across_looks_is_not_trimmed_while_it_runs(self):
        self.idle.begin()
        seen = self.idle.look(self.idle.look(-1))
        self.assertEqual(0, self.trims)
        self.idle.end()
        self.idle.look(seen)
        self.assertEqual(1, self.trims)

    def test_malloc_trim_gives_the_kept_heap_back(self):
        out = subprocess.run([sys.executable, "-c", _TRIM, RUNTIME_DIR], capture_output=True, text=True, check=True)
        kept, after = (int(v) for v in out.stdout.split())
        # 24 MiB were freed into the kept heap; the trim hands (nearly) all of it back.
        self.assertGreater(kept - after, 16 << 10)


class _Stop(Exception):
    pass


class _PushedSource(InvocationSource):
    """As the channel's source: posting a result returns only once the host has pushed the next invocation into the
    reply, so an instance with no work waits inside post_response."""

    def __init__(self, wait_seconds):
        self._wait_seconds = wait_seconds
        self._given = 0

    def next(self):
        if self._given == 2:
            raise _Stop()
        self._given += 1
        return Invocation(f"r{self._given}", int(time.time() * 1000) + 60000, "arn:aws:lambda:us-east-1:0:function:fn", b"{}")

    def post_response(self, request_id, body):
        time.sleep(self._wait_seconds)  # no next invocation yet: the instance is idle

    def post_error(self, request_id, error):
        time.sleep(self._wait_seconds)

    def release_idle_memory(self):
        self.released = getattr(self, "released", 0) + 1


class IdleInstanceTests(unittest.TestCase):
    def test_an_instance_waiting_in_its_post_for_the_next_invocation_is_trimmed(self):
        # Guards Runtime._finished: the runtime's loop marks the call over before it posts. Wrapping the whole
        # serve_one instead counts a nexus instance's wait for its next invocation as work, and it never trims.
        trims = []
        idle = heap.IdleTrim(idle_seconds=0.05, trim=lambda: trims.append(threading.get_ident()))
        env = {"AWS_LAMBDA_FUNCTION_NAME": "fn", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST"}
        runtime = bootstrap.Runtime(lambda event, context: {"ok": True}, _PushedSource(wait_seconds=0.6), env, idle=idle)
        with self.assertRaises(_Stop):
            runtime.serve_forever()
        # Two idle spells of 0.6 s, each seen by the 0.05 s looks: one trim per spell.
        self.assertEqual(2, len(trims))

    def test_an_idle_instance_gives_back_its_heap_and_what_its_source_holds(self):
        source = _PushedSource(wait_seconds=0)
        runtime = bootstrap.Runtime(lambda event, context: None, source, {})
        runtime._give_back_memory()
        self.assertEqual(1, source.released)


if __name__ == "__main__":
    unittest.main()
