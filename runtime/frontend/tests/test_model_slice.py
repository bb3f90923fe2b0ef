# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The committed model slices are what model_slice.py writes from Debian's botocore model: a drift is seen here."""

import os
import subprocess
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
FRONTEND = os.path.dirname(HERE)


class ModelSliceTests(unittest.TestCase):
    @unittest.skipUnless(os.path.isdir('/usr/lib/python3/dist-packages/botocore/data/dynamodb'),
                         "Debian's botocore (python3-botocore, installed by scripts/setup) is not on this machine")
    def test_every_slice_is_regenerated_unchanged(self):
        slices = [name for name in os.listdir(os.path.join(FRONTEND, 'botocore')) if name.endswith('_model.py')
                  and name != '_nexus_model.py']
        self.assertEqual({'_nexus_ddb_model.py', '_nexus_ssm_model.py', '_nexus_secretsmanager_model.py',
                          '_nexus_sqs_model.py', '_nexus_sns_model.py', '_nexus_kinesis_model.py',
                          '_nexus_firehose_model.py', '_nexus_stepfunctions_model.py', '_nexus_kms_model.py',
                          '_nexus_sts_model.py', '_nexus_events_model.py', '_nexus_ses_model.py',
                          '_nexus_cloudwatch_model.py', '_nexus_sesv2_model.py', '_nexus_apigatewaymanagementapi_model.py',
                          '_nexus_iot_data_model.py'}, set(slices))
        for name in slices:
            with open(os.path.join(FRONTEND, 'botocore', name)) as f:
                committed = f.read()
            command = next(line.strip() for line in committed.splitlines() if line.strip().startswith('/usr/bin/python3'))
            argv = command.split()[1:]
            written = subprocess.run([sys.executable, os.path.join(FRONTEND, argv[0]), *argv[1:]], check=True,
                                     capture_output=True, text=True).stdout
            self.assertEqual(committed, written, name)

if __name__ == '__main__':
    unittest.main()
