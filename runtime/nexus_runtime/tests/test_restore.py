# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The restore record as the runtime reads and applies it (nexus_channel.read_restore, nexus_runtime.restore)."""

import contextlib
import io
import os
import random
import struct
import sys
import unittest

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CHANNEL_DIR = os.path.join(RUNTIME_DIR, "nexus_channel")
for directory in (RUNTIME_DIR, CHANNEL_DIR):
    if directory not in sys.path:
        sys.path.insert(0, directory)

import nexus_channel  # noqa: E402
from nexus_runtime import restore  # noqa: E402


def region(sequence=7, applied=7, environment=b"AWS_LAMBDA_LOG_STREAM_NAME=nx-b\0", version=1, magic=0x5352584E, length=None):
    """A header page with a record laid out as the host's RestoreRecord.Encode lays it out."""
    page = bytearray(4096)
    length = len(environment) if length is None else length
    struct.pack_into("<IHHQq", page, 1024, magic, version, length, sequence, 1_700_000_000_000_000_000)
    struct.pack_into("<Q", page, 1024 + 56, applied)
    page[1024 + 64:1024 + 64 + len(environment)] = environment
    return page


class ReadRestoreTests(unittest.TestCase):
    def test_reads_the_fields_and_the_environment(self):
        record = nexus_channel.read_restore(region(environment=b"A=1\0B=x=y\0"))
        self.assertEqual((record.sequence, record.applied, record.wall_clock_ns), (7, 7, 1_700_000_000_000_000_000))
        self.assertEqual(record.environment, {"A": "1", "B": "x=y"})

    def test_no_record_a_zero_sequence_or_another_version_is_none(self):
        self.assertIsNone(nexus_channel.read_restore(bytearray(4096)))
        self.assertIsNone(nexus_channel.read_restore(region(magic=0x4843584E)))
        self.assertIsNone(nexus_channel.read_restore(region(sequence=0)))
        self.assertIsNone(nexus_channel.read_restore(region(version=2)))
        self.assertIsNone(nexus_channel.read_restore(bytearray(1024)))

    def test_malformed_entries_are_skipped_and_the_length_is_held_to_the_header_page(self):
        # What follows the header page (the submission ring) is not the record's, whatever the length says.
        page = region(environment=b"NOEQUALS\0=v\0BAD=\xff\0OK=\xc3\xa9\0", length=65535) + b"\0RING=1\0" + bytes(4088)
        self.assertEqual(nexus_channel.read_restore(page).environment, {"OK": "é"})


class ApplyTests(unittest.TestCase):
    def test_sets_the_instances_variables_and_reseeds_random(self):
        rng = random.Random(1234)
        snapshot_next = random.Random(1234).random()
        env = {"AWS_LAMBDA_LOG_STREAM_NAME": "nx-a", "OTHER": "kept"}
        with contextlib.redirect_stderr(io.StringIO()) as err:
            restore.apply(nexus_channel.read_restore(region()), env, rng)
        self.assertEqual(env, {"AWS_LAMBDA_LOG_STREAM_NAME": "nx-b", "OTHER": "kept"})
        self.assertNotEqual(rng.random(), snapshot_next)
        self.assertEqual(err.getvalue(), "")

    def test_a_record_the_kernel_did_not_apply_is_reported(self):
        with contextlib.redirect_stderr(io.StringIO()) as err:
            restore.apply(nexus_channel.read_restore(region(applied=0)), {}, random.Random(1))
        self.assertIn("the kernel did not apply restore 7", err.getvalue())

    def test_no_record_changes_nothing(self):
        rng, env = random.Random(5), {"A": "1"}
        restore.apply(None, env, rng)
        self.assertEqual((env, rng.random()), ({"A": "1"}, random.Random(5).random()))

    def test_the_channel_source_applies_its_transports_record(self):
        from nexus_runtime.channel_source import ChannelSource

        class Transport:
            restore = nexus_channel.read_restore(region(environment=b"NEXUS_RESTORE_TEST=applied\0"))

        class Inner:
            transport = Transport()

        try:
            ChannelSource(Inner())
            self.assertEqual(os.environ.get("NEXUS_RESTORE_TEST"), "applied")
        finally:
            os.environ.pop("NEXUS_RESTORE_TEST", None)


if __name__ == "__main__":
    unittest.main()
