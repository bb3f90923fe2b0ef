# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The restore record a microVM restored from a snapshot finds in its region's header page."""

import struct

from nexus_channel.layout import HEADER_SIZE

# The restore record a microVM restored from a snapshot finds in the header page (docs/channel.md, RestoreRecord.cs):
# magic, version, environment length, sequence, wall clock (ns), the seed (the kernel's, wiped by the region driver),
# the sequence the driver applied; then NUL-terminated NAME=value entries.
RESTORE_OFFSET = 1024
RESTORE_MAGIC = 0x5352584E
RESTORE_VERSION = 1
_RESTORE = struct.Struct("<IHHQq32xQ")
_RESTORE_MAX_ENVIRONMENT = HEADER_SIZE - RESTORE_OFFSET - 64


class Restore:
    """This VM was restored from a snapshot other VMs share: what the host gave this instance of its own."""
    __slots__ = ("sequence", "applied", "wall_clock_ns", "environment")

    def __init__(self, sequence, applied, wall_clock_ns, environment):
        self.sequence = sequence            # non-zero, new for every restore
        self.applied = applied              # what the kernel's region driver applied: == sequence once it reseeded
        self.wall_clock_ns = wall_clock_ns  # the host's clock when it wrote the record
        self.environment = environment      # this instance's values of its per-instance variables


def read_restore(region):
    """The restore record in a region (a buffer of at least its header page), or None: no record, or a version this
    code does not read. Entries that are not NAME=value in UTF-8 are skipped; the length is held to the header page."""
    if len(region) < HEADER_SIZE:
        return None
    magic, version, length, sequence, wall_clock_ns, applied = _RESTORE.unpack_from(region, RESTORE_OFFSET)
    if magic != RESTORE_MAGIC or version != RESTORE_VERSION or sequence == 0:
        return None
    start = RESTORE_OFFSET + _RESTORE.size
    environment = {}
    for entry in bytes(region[start:start + min(length, _RESTORE_MAX_ENVIRONMENT)]).split(b"\0"):
        name, equals, value = entry.partition(b"=")
        try:
            if equals and name:
                environment[name.decode()] = value.decode()
        except UnicodeDecodeError:
            continue
    return Restore(sequence, applied, wall_clock_ns, environment)
