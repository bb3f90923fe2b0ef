# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The runtime's malloc policy: freed heap stays with the process between invocations.

glibc gives the top of the heap back to the kernel once more than its trim threshold lies free there, and serves
blocks above its mmap threshold with fresh mappings. Both thresholds start at 128 KiB and rise only when the process
happens to free a large mapped block, so they depend on what it imported: a runtime that imported the real boto3 (its
JSON service models) ended up keeping its heap, one forked from a nexus template did not, and gave back and faulted in
again the ~12 MiB of image buffers of every image-rotate call (docs/runtime.md, "Heap between invocations"). Fixed at the
ceiling glibc's own rule reaches (32 MiB, trim at twice that), a warm instance reuses its pages whatever it imported;
an instance idle for ten seconds gives them back (IdleTrim).
"""

import ctypes

# mallopt(3) parameters, from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

# How long an instance sits idle before it gives its heap back. Refaulting an image-rotate call's ~16 MiB costs that
# call tens of milliseconds on these machines: at 1 s, trace replays called most instances just after their trim and
# their p99 slowdown passed 2 at every load (docs/evaluation.md, "Idle nexus instances ...").
IDLE_SECONDS = 10.0


def keep_freed_heap() -> bool:
    """Sets the thresholds; False where the C library has no mallopt (not glibc), which changes nothing else."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1


def malloc_trim():
    try:
        libc = ctypes.CDLL(None)
        libc.malloc_trim.argtypes = (ctypes.c_size_t,)
        libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


class IdleTrim:
    """Gives the kept heap back once the instance has been idle for a while: between the calls of a busy instance its
    pages stay (no faults), an instance the pool keeps warm but does not call holds only what it uses. A daemon thread
    looks once per ``idle_seconds``: no call began during a whole look and none runs, so the instance has been idle at
    least that long; it trims once per idle spell (``malloc_trim``, which also releases free pages inside the heap).
    The runtime's loop only counts calls and flips a flag: no thread wake-up per call."""

    def __init__(self, idle_seconds=IDLE_SECONDS, trim=malloc_trim):
        self._idle_seconds = idle_seconds
        self._trim = trim
        self._calls = 0
        self._busy = False
        self._trimmed_after = -1

    def start(self) -> bool:
        """Starts the looking thread; False when the sandbox cannot start one more (its pids limit): no trim then."""
        import threading
        try:
            threading.Thread(target=self._run, name="nexus-idle-trim", daemon=True).start()
        except RuntimeError:
            return False
        return True

    def begin(self):
        self._busy = True
        self._calls += 1

    def end(self):
        self._busy = False

    def look(self, calls_at_last_look):
        """One look; returns the call count to compare with at the next."""
        calls = self._calls
        if not self._busy and calls == calls_at_last_look and self._trimmed_after != calls:
            self._trimmed_after = calls
            self._trim()
        return calls

    def _run(self):
        import time
        seen = -1
        while True:
            time.sleep(self._idle_seconds)
            seen = self.look(seen)
