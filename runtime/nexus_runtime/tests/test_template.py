# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The fork template's memory sharing (nexus_runtime.template)."""

import os
import subprocess
import sys
import unittest

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# A template holding ~300,000 container objects (as an import of a large library leaves) forks an instance, which runs a
# full collection; the instance prints how many kB of the template's pages it had to copy meanwhile.
_FORK = """
import gc, os, sys
sys.path.insert(0, sys.argv[1])
from nexus_runtime import template
def private_dirty_kb():
    with open("/proc/self/smaps_rollup") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("Private_Dirty"))
held = [[i, str(i)] for i in range(300_000)]
pid = template.fork_sharing_objects()
if pid == 0:
    before = private_dirty_kb()
    gc.collect()
    print(private_dirty_kb() - before, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
"""


class ForkTests(unittest.TestCase):
    def test_an_instances_collection_does_not_copy_the_templates_objects(self):
        out = subprocess.run([sys.executable, "-c", _FORK, RUNTIME_DIR], capture_output=True, text=True, check=True)
        copied_kb = int(out.stdout)
        # The objects take ~40 MiB; a collection that walked them would copy nearly all of those pages.
        self.assertLess(copied_kb, 4 << 10)


class ExitStatusTests(unittest.TestCase):
    def test_a_forked_instance_exits_with_the_status_python_gives_sys_exit(self):
        # sys.exit(3) in a handler: Lambda (and a fresh Python) report "exit status 3"; a forked instance said 1.
        sys.path.insert(0, RUNTIME_DIR)
        from nexus_runtime import template
        for code in (None, 0, 3, 255, 256 + 5, -1, "bye", 2.5):
            python = subprocess.run([sys.executable, "-c", f"import sys; sys.exit({code!r})"], capture_output=True)
            with self.subTest(code=code):
                self.assertEqual(python.returncode & 0xFF, template._exit_status(SystemExit(code)))


if __name__ == "__main__":
    unittest.main()
