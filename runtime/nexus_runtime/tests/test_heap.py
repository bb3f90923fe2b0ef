# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The runtime's malloc policy (nexus_runtime.heap): a warm process reuses the heap its last invocation freed."""

import os
import subprocess
import sys
import unittest

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

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


def faults_per_call(policy):
    out = subprocess.run([sys.executable, "-c", _CALLS, RUNTIME_DIR, policy], capture_output=True, text=True, check=True)
    return int(out.stdout)


class HeapTests(unittest.TestCase):
    def test_freed_buffers_are_reused_by_the_next_call_not_faulted_in_again(self):
        pages = 3 * (8 << 20) // 4096
        # Without the policy the process pays for every page of every call: what the test must be able to see.
        self.assertGreater(faults_per_call("default"), pages // 2)
        self.assertLess(faults_per_call("keep"), pages // 20)


if __name__ == "__main__":
    unittest.main()
