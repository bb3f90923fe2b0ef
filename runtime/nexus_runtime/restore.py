# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Makes a microVM restored from a ready snapshot this instance's own (docs/vmm.md, "Restored device state").

Every VM restored from one snapshot resumes with the snapshot's Python state: the same `random` state and the
environment of the instance whose start made the snapshot. The host's restore record (nexus_channel.read_restore)
carries this instance's per-instance variables; the region driver has already reseeded the kernel's CRNG from the
record's seed and stepped the wall clock, so `random` is reseeded from os.urandom here.
"""

import os
import random
import sys


def apply(record, environ=None, rng=random) -> None:
    """Applies a restore record (None: not restored, nothing to do)."""
    if record is None:
        return
    env = os.environ if environ is None else environ
    env.update(record.environment)
    if record.applied != record.sequence:
        sys.stderr.write(f"[WARN] nexus_runtime: the kernel did not apply restore {record.sequence} (applied "
                         f"{record.applied}): its random numbers and clock may be the snapshot's\n")
    # No argument: seeded from os.urandom, i.e. the kernel's CRNG, which the restore reseeded.
    rng.seed()
