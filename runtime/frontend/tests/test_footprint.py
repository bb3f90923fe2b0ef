# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""What importing the stand-in loads: no network stack, and the stand-in itself, not Debian's boto3."""

import os
import subprocess
import sys
import unittest

from frontend_case import FRONTEND


class FootprintTests(unittest.TestCase):
    def test_no_network_stack_is_loaded(self):
        code = ('import sys, boto3; c = boto3.client("s3"); r = boto3.resource("s3"); '
                'bad = [m for m in ("socket", "ssl", "http.client", "urllib3", "email", "threading", '
                '"dateutil", "jmespath", "requests") if m in sys.modules]; '
                'print(",".join(bad)); import botocore; print(botocore.__file__)')
        out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True,
                             env=dict(os.environ, PYTHONPATH=FRONTEND))
        bad, origin = out.stdout.splitlines()
        self.assertEqual(bad, '')
        self.assertTrue(origin.startswith(FRONTEND))


if __name__ == '__main__':
    unittest.main()
