# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The runtime's malloc policy: freed heap stays with the process between invocations.

glibc gives the top of the heap back to the kernel once more than its trim threshold lies free there, and serves
blocks above its mmap threshold with fresh mappings. Both thresholds start at 128 KiB and rise only when the process
happens to free a large mapped block, so they depend on what it imported: a runtime that imported the real boto3 (its
JSON service models) ended up keeping its heap, one forked from a nexus template did not, and gave back and faulted in
again the ~12 MiB of image buffers of every image-rotate call (docs/runtime.md, "Heap between invocations"). Fixed at the
ceiling glibc's own rule reaches (32 MiB, trim at twice that), a warm instance reuses its pages whatever it imported;
an instance idle for ten seconds (one second when malloc is on huge pages) gives them back (IdleTrim).
"""

import ctypes

# mallopt(3) parameters, from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD

# How long an instance sits idle before it gives its heap back. On 4 KiB pages refaulting an image-rotate call's ~16 MiB
# cost that call ~50 ms of CPU here (~15 us a fault under this hypervisor), and at 1 s the p99 slowdown of trace replays
# passed 2: 10 s then. With malloc on transparent huge pages (the node sets GLIBC_TUNABLES glibc.malloc.hugetlb=1) the
# refault is ~6 ms, and a second is enough (docs/runtime.md, "Heap between invocations").
IDLE_SECONDS = 10.0
IDLE_SECONDS_ON_HUGE_PAGES = 1.0
THP_CONTROL = "/sys/kernel/mm/transparent_hugepage/enabled"


def heap_on_huge_pages(environ=None, control=THP_CONTROL) -> bool:
    """Whether malloc asks for huge pages (glibc.malloc.hugetlb=1 in GLIBC_TUNABLES, read by glibc at exec) and the kernel
    grants them on request (its THP setting is madvise or always; unreadable counts as no)."""
    import os
    tunables = (environ if environ is not None else os.environ).get("GLIBC_TUNABLES", "")
    if "glibc.malloc.hugetlb=1" not in tunables.split(":"):
        return False
    try:
        with open(control) as f:
            return "[never]" not in f.read()
    except OSError:
        return False


def idle_seconds() -> float:
    return IDLE_SECONDS_ON_HUGE_PAGES if heap_on_huge_pages() else IDLE_SECONDS


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

    def __init__(self, idle_seconds=None, trim=malloc_trim):
        self._idle_seconds = idle_seconds if idle_seconds is not None else globals()["idle_seconds"]()
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
