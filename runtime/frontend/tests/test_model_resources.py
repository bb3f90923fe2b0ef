# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The resources made from boto3's resources-1.json (boto3/resources/factory.py) against Debian's real boto3, side by
side in two processes (resource_probe.py): every resource of SQS, SNS, EC2, IAM, Glacier, CloudWatch, CloudFormation,
OpsWorks and DynamoDB (its client with boto3's high-level interface), its surface, load, attributes, references, actions,
waiters, collections and batch actions, each answered with the same generated answers; what is sent and what comes back
must be the same. The stand-in's run refuses the real SDK, so a record can only match if the stand-in made it itself."""

import json
import os
import subprocess
import unittest

import frontend_case  # noqa: F401  (the stand-in first on sys.path)

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, 'resource_probe.py')
BOTO3_DATA = '/usr/lib/python3/dist-packages/boto3/data'
SERVICES = ('cloudformation', 'cloudwatch', 'dynamodb', 'ec2', 'glacier', 'iam', 'opsworks', 'sns', 'sqs')
# The operations botocore changes with handlers the stand-in does not reproduce: none of the resources' any more (EC2's
# create_instances, console_output and Snapshot.copy, Glacier's uploads were, until their handlers were reproduced).
LEFT_TO_THE_REAL_SDK = set()


def probe(mode):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['TZ'] = 'America/New_York'
    run = subprocess.run(['/usr/bin/python3', PROBE, mode, ','.join(SERVICES)], env=env, cwd='/',
                         capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise AssertionError(f'resource_probe.py {mode} failed:\n{run.stderr[-3000:]}')
    return json.loads(run.stdout)


@unittest.skipUnless(os.path.isdir(os.path.join(BOTO3_DATA, 'sqs')),
                     "Debian's boto3 (python3-boto3, installed by scripts/setup) is not on this machine")
class ResourcesAgainstTheRealBoto3Tests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.standin, cls.real = probe('standin'), probe('real')

    def _same(self, records):
        different = [key for key in records if self.real.get(key) != self.standin[key]]
        self.assertEqual([], different[:20], f'{len(different)} of {len(records)} differ from boto3')

    def test_both_runs_used_the_same_resources(self):
        self.assertEqual(sorted(self.real), sorted(self.standin))
        self.assertGreater(len(self.standin), 1000)

    def test_every_resource_has_boto3_s_class_name_repr_and_members(self):
        surfaces = [key for key in self.standin if key.endswith(':surface')]
        self.assertGreater(len(surfaces), 40)
        self._same(surfaces)

    def test_every_action_sends_and_returns_what_boto3_does(self):
        actions = [key for key in self.standin if key.endswith('()') and key.count('.') == 1
                   and key not in LEFT_TO_THE_REAL_SDK and '.wait_until_' not in key]
        self.assertGreater(len(actions), 160)
        # Nearly all answered and handled (resources built from the answer, a path searched), or equality proves little.
        self.assertGreater(sum(1 for key in actions if self.standin[key]['result'][0] == 'ok'), 160)
        self._same(actions)

    def test_loads_attributes_and_references_are_boto3_s(self):
        reads = [key for key in self.standin if key.endswith(':load') or (
            '.' in key and not key.endswith(')') and key.count('.') == 1)]
        self.assertGreater(len(reads), 500)
        self.assertGreater(sum(1 for key in reads if self.standin[key]['result'][0] == 'ok'), 500)
        self._same(reads)

    def test_collections_page_limit_filter_and_batch_as_boto3_s(self):
        collections = [key for key in self.standin if key.count('.') == 2 or key.endswith(('Manager', 'all()'))]
        self.assertGreater(len(collections), 200)
        self.assertGreater(sum(1 for key in collections if self.standin[key]['result'][0] == 'ok'), 130)
        self._same(collections)

    def test_waiters_wait_as_boto3_s(self):
        waits = [key for key in self.standin if '.wait_until_' in key]
        self.assertGreater(len(waits), 8)
        self.assertEqual({'ok', 'error'}, {self.standin[key]['result'][0] for key in waits})
        self._same(waits)

    def test_only_the_calls_botocore_customizes_are_left_to_the_real_sdk(self):
        left = {key for key, record in self.standin.items()
                if record['result'][:2] == ['error', 'RuntimeError'] and 'real SDK' in record['result'][2]}
        self.assertEqual(LEFT_TO_THE_REAL_SDK, left)
        for key in LEFT_TO_THE_REAL_SDK:
            self.assertEqual('ok', self.real[key]['result'][0], key)


@unittest.skipUnless(os.path.isdir(os.path.join(BOTO3_DATA, 'sqs')),
                     "Debian's boto3 (python3-boto3, installed by scripts/setup) is not on this machine")
class ParameterPlacementTests(unittest.TestCase):
    # Targets no resource above reaches with an index (a batch action's Entries[*].Id, S3's Delete.Objects[*].Key)
    # beside the common ones, placed by the stand-in and by Debian's boto3 (build_param_structure) in another process.
    CASES = [
        [['QueueUrl', 'u', None]],
        [['AttributeNames[]', 'All', None], ['AttributeNames[]', 'Policy', None]],
        [['Filters[0].Name', 'vpc-id', None], ['Filters[0].Values[0]', 'vpc-1', None]],
        [['Entries[*].Id', 'm1', 0], ['Entries[*].ReceiptHandle', 'r1', 0], ['Entries[*].Id', 'm2', 1],
         ['Entries[*].ReceiptHandle', 'r2', 1]],
        [['Delete.Objects[*].Key', 'k1', 0], ['Delete.Objects[*].Key', 'k2', 1], ['Delete.Objects[*].Key', 'k3', None]],
        [['Resources[2]', 'i-3', None], ['A.B.C', 1, None], ['A.D[]', True, None]],
    ]

    def test_targets_are_placed_as_boto3_places_them(self):
        from boto3.resources.factory import place
        script = ('import json, sys\n'
                  'from boto3.resources.params import build_param_structure\n'
                  'out = []\n'
                  'for case in json.load(sys.stdin):\n'
                  '    params = {}\n'
                  '    for target, value, index in case:\n'
                  '        build_param_structure(params, target, value, index)\n'
                  '    out.append(params)\n'
                  'print(json.dumps(out))\n')
        env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        run = subprocess.run(['/usr/bin/python3', '-c', script], input=json.dumps(self.CASES), env=env, cwd='/',
                             capture_output=True, text=True, timeout=120, check=True)
        standin = []
        for case in self.CASES:
            params = {}
            for target, value, index in case:
                place(params, target, value, index)
            standin.append(params)
        self.assertEqual(json.loads(run.stdout), standin)
        self.assertEqual({'Entries': [{'Id': 'm1', 'ReceiptHandle': 'r1'}, {'Id': 'm2', 'ReceiptHandle': 'r2'}]},
                         standin[3])


if __name__ == '__main__':
    unittest.main()
