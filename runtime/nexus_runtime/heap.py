# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The runtime's malloc policy: freed heap stays with the process between invocations.

glibc gives the top of the heap back to the kernel once more than its trim threshold lies free there, and serves
blocks above its mmap threshold with fresh mappings. Both thresholds start at 128 KiB and rise only when the process
happens to free a large mapped block, so they depend on what it imported: a runtime that imported the real boto3 (its
JSON service models) ended up keeping its heap, one forked from a nexus template did not, and gave back and faulted in
again the ~12 MiB of image buffers of every image-rotate call (docs/runtime.md, "Heap between invocations"). Fixed at the
ceiling glibc's own rule reaches (32 MiB, trim at twice that), a warm instance reuses its pages whatever it imported.
"""

import ctypes

# mallopt(3) parameters, from glibc's malloc.h.
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3

MMAP_THRESHOLD = 32 << 20
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD


def keep_freed_heap() -> bool:
    """Sets the thresholds; False where the C library has no mallopt (not glibc), which changes nothing else."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD) == 1 and mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD) == 1
