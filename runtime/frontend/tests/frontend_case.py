# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""What the stand-in's unit tests share: the stand-in first on sys.path, and a test case with a fake channel transport.

Imported by each test module before boto3, so `import boto3` there is the stand-in's.
Run them all: cd runtime/frontend && /usr/bin/python3 -m unittest discover -s tests
"""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FRONTEND = os.path.dirname(HERE)
sys.path.insert(0, FRONTEND)
sys.path.insert(0, HERE)

import boto3  # noqa: E402
import botocore.client  # noqa: E402
from fake_transport import FakeTransport  # noqa: E402

# The stand-in must come from runtime/frontend, never from Debian's real packages.
assert boto3.__file__.startswith(FRONTEND), boto3.__file__


def b64_sha256(data):
    import base64
    import hashlib
    return base64.b64encode(hashlib.sha256(data).digest()).decode('ascii')


class FrontendTestCase(unittest.TestCase):
    def setUp(self):
        self.transport = FakeTransport(buckets=('bucket', 'other'))
        botocore.client._set_transport(self.transport)
        self.s3 = boto3.client('s3')

    def tearDown(self):
        botocore.client._set_transport(None)
