# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's model-driven clients (model-read ones for every service without an own client, and the curated
slices) against Debian's real botocore, side by side in two processes (model_client_probe.py): every operation they
serve, of every service that speaks the JSON, query, REST-JSON, EC2 or REST-XML protocol, is called with inputs generated from its
model and answered with an answer generated from its model; the request each client sends (method, path, query,
headers, body) and what each call returns must be the same, and so must each of the service's modeled errors
(exception class, response, modeled fields), what each paginator the stand-in serves sends and returns, and how each
of its waiters ends."""

import json
import os
import subprocess
import tempfile
import unittest

import frontend_case  # noqa: F401  (the stand-in first on sys.path)
from botocore._nexus_model_clients import model_client_class

HERE = os.path.dirname(os.path.abspath(__file__))
PROBE = os.path.join(HERE, 'model_client_probe.py')
DATA = '/usr/lib/python3/dist-packages/botocore/data'


def services():
    """Every service of Debian's botocore that speaks a protocol the model-driven clients speak."""
    out = []
    for name in sorted(os.listdir(DATA)):
        folder = os.path.join(DATA, name)
        if not os.path.isdir(folder):
            continue
        with open(os.path.join(folder, sorted(os.listdir(folder))[-1], 'service-2.json')) as f:
            if json.load(f)['metadata']['protocol'] in ('json', 'query', 'rest-json', 'ec2', 'rest-xml'):
                out.append(name)
    return out


def probe(mode, names, keys_file=None):
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env['TZ'] = 'America/New_York'   # an epoch read in the wrong zone shows
    argv = ['/usr/bin/python3', PROBE, mode, ','.join(names)] + ([keys_file] if keys_file else [])
    run = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    if run.returncode != 0:
        raise AssertionError(f'model_client_probe.py {mode} failed:\n{run.stderr[-3000:]}')
    return json.loads(run.stdout)


@unittest.skipUnless(os.path.isdir(os.path.join(DATA, 'glacier')),
                     "Debian's botocore (python3-botocore, installed by scripts/setup) is not on this machine")
class GlacierTreeHashTests(unittest.TestCase):
    def test_the_tree_hash_of_an_upload_is_botocores_for_one_chunk_and_for_several(self):
        # The probe's generated bodies are one chunk; a tree hash pairs 1 MiB chunks level by level.
        from botocore._nexus_model_clients import _tree_hash
        sizes = [0, 1, 1 << 20, (1 << 20) + 1, 3 * (1 << 20) + 7, 4 << 20]
        script = ('import io, json, sys\nfrom botocore.utils import calculate_tree_hash\n'
                  'print(json.dumps([calculate_tree_hash(io.BytesIO((bytes(range(251)) * (n // 251 + 1))[:n]))'
                  ' for n in json.loads(sys.argv[1])]))\n')
        env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        run = subprocess.run(['/usr/bin/python3', '-c', script, json.dumps(sizes)], env=env, cwd='/',
                             capture_output=True, text=True, timeout=120)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertEqual(json.loads(run.stdout), [_tree_hash((bytes(range(251)) * (n // 251 + 1))[:n]) for n in sizes])


@unittest.skipUnless(os.path.isdir(os.path.join(DATA, 'rekognition')),
                     "Debian's botocore (python3-botocore, installed by scripts/setup) is not on this machine")
class ModelClientsAgainstTheRealBotocoreTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.services = services()
        cls.standin = probe('standin', cls.services)
        with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as keys:
            json.dump(sorted(cls.standin), keys)
        try:
            cls.real = probe('real', cls.services, keys.name)
        finally:
            os.unlink(keys.name)

    def test_every_served_call_sends_and_returns_what_botocore_does(self):
        calls = {key: record for key, record in self.standin.items() if not any(mark in key for mark in '!#@')}
        # Most of botocore's operations, answered and parsed, or equality proves little.
        self.assertGreater(len(calls), 11000)
        self.assertGreater(sum(1 for record in calls.values() if record['result'][0] == 'ok'), 10500)
        different = [key for key, record in calls.items() if self.real.get(key) != record]
        self.assertEqual([], different[:20], f'{len(different)} of {len(calls)} calls differ from botocore')

    def test_every_served_paginator_pages_truncates_and_resumes_as_botocore_does(self):
        # Three pages answered, MaxItems past the first page (a truncated page and a resume token), then resumed.
        pages = {key: record for key, record in self.standin.items() if key.endswith('#pages')}
        self.assertGreater(len(pages), 1700)
        self.assertGreater(sum(1 for record in pages.values() if record['result'][0][0] == 'ok'), 1600)
        different = [key for key, record in pages.items() if self.real.get(key) != record]
        self.assertEqual([], different[:20], f'{len(different)} of {len(pages)} paginators differ from botocore')

    def test_every_served_waiter_waits_as_botocore_does(self):
        # Each waiter whose operation the stand-in serves, answered three times alike (its generated answer, and each
        # error and status it accepts): the outcome (done, or WaiterError and its reason) and the attempts made.
        waits = {key: record for key, record in self.standin.items() if '@' in key}
        self.assertGreater(len({key.split('@')[0] for key in waits}), 190)
        outcomes = {record['result'][0] for record in waits.values()}
        self.assertEqual({'ok', 'WaiterError'}, outcomes)
        different = [key for key, record in waits.items() if self.real.get(key) != record]
        self.assertEqual([], different[:20], f'{len(different)} of {len(waits)} waits differ from botocore')

    def test_every_modeled_error_is_raised_as_botocore_raises_it(self):
        errors = {key: record for key, record in self.standin.items() if '!' in key}
        self.assertGreater(len(errors), 3500)
        # Raised as the service's modeled class (client.exceptions.X catches it) for nearly all of them.
        self.assertGreater(sum(1 for record in errors.values() if record['result'][-1] is True), 3500)
        different = [key for key, record in errors.items() if self.real.get(key) != record]
        self.assertEqual([], different[:20], f'{len(different)} of {len(errors)} errors differ from botocore')

    def test_the_services_people_call_from_functions_have_model_read_clients(self):
        for service in ('rekognition', 'textract', 'comprehend', 'translate', 'athena', 'glue', 'logs', 'cognito-idp',
                        'ecs', 'xray', 'sagemaker-runtime', 'codepipeline', 'ec2', 'cloudfront', 'iam', 'route53',
                        'apigateway', 'glacier'):
            self.assertIsNotNone(model_client_class(service), service)
        # Operations botocore customizes with handlers the stand-in reproduces are the model-read client's (compared
        # above: a generated answer, the presigned copies also without their URL; ModelReadStandInTests: real answers).
        for service, operation in (('ec2', 'RunInstances'), ('ec2', 'GetConsoleOutput'), ('ec2', 'CopySnapshot'),
                                   ('rds', 'CopyDBSnapshot'), ('neptune', 'CreateDBCluster'), ('glacier', 'UploadArchive'),
                                   ('glacier', 'UploadMultipartPart'),
                                   ('autoscaling', 'CreateLaunchConfiguration'), ('cloudformation', 'GetTemplate')):
            self.assertIn(operation, model_client_class(service).MODEL.OPERATIONS)
        # S3 (the fast path's) and no model: no model-read client.
        for service in ('s3', 'no-such-service'):
            self.assertIsNone(model_client_class(service), service)
        self.assertIn('Predict', model_client_class('machinelearning').MODEL.OPERATIONS)
        self.assertIn('Search', model_client_class('cloudsearchdomain').MODEL.OPERATIONS)


@unittest.skipUnless(os.path.isdir(os.path.join(DATA, 'rekognition')),
                     "Debian's botocore (python3-botocore, installed by scripts/setup) is not on this machine")
class BotocoreFactsTests(unittest.TestCase):
    """What the stand-in takes from botocore besides calls: parameter aliases, method names, the session's listings."""

    def test_a_parameter_alias_is_taken_as_botocore_takes_it(self):
        # botocore's ParameterAlias: boto3 documents Filters where five EC2 operations' member is Filter, and CloudWatch
        # Logs' fromTime for create_export_task's from; the form and body are what Debian's botocore sends for the same
        # call, and both names at once is its AliasConflictParameterError.
        import io
        from urllib.parse import parse_qsl
        import boto3
        import botocore.client
        from botocore.exceptions import AliasConflictParameterError

        class Channel:
            sent = []

            def call(self, op, params, body=None, timeout=None):
                self.sent.append(body)
                return type('Answer', (), {'status': 200, 'meta': {'Headers': {}}, 'body': io.BytesIO(
                    b'<R><requestId>r</requestId></R>' if b'Action=' in body else b'{}')})()

        channel = Channel()
        botocore.client._set_transport(channel)
        try:
            ec2 = boto3.client('ec2', region_name='us-east-1')
            ec2.describe_nat_gateways(Filters=[{'Name': 'vpc-id', 'Values': ['vpc-1', 'vpc-2']}], NatGatewayIds=['nat-1'])
            self.assertEqual([('Action', 'DescribeNatGateways'), ('Version', '2016-11-15'), ('NatGatewayId.1', 'nat-1'),
                              ('Filter.1.Name', 'vpc-id'), ('Filter.1.Value.1', 'vpc-1'), ('Filter.1.Value.2', 'vpc-2')],
                             parse_qsl(channel.sent[-1].decode()))
            with self.assertRaisesRegex(AliasConflictParameterError, "Parameter 'Filter' and its alias 'Filters' were "
                                        'provided for operation DescribeNatGateways.  Only one of them may be used.'):
                ec2.describe_nat_gateways(Filters=[], Filter=[])
            logs = boto3.client('logs', region_name='us-east-1')
            logs.create_export_task(logGroupName='app', fromTime=1, to=2, destination='bucket')
            self.assertEqual({'logGroupName': 'app', 'to': 2, 'destination': 'bucket', 'from': 1},
                             json.loads(channel.sent[-1]))
        finally:
            botocore.client._set_transport(None)

    def test_the_session_lists_what_the_real_sdk_lists(self):
        # Services, resources, partitions and regions (an ops function iterating get_available_regions('ec2') must not
        # get an empty list), as Debian's boto3 answers in another process.
        import boto3
        import botocore.session
        asks = [('services', None), ('resources', None), ('partitions', None)] + [
            ('regions', (service, partition, non_regional)) for service in ('ec2', 'lambda', 'sts', 's3', 'dynamodb',
                                                                            'no-such-service')
            for partition in ('aws', 'aws-cn', 'aws-us-gov') for non_regional in (False, True)]
        script = (
            'import json, sys, boto3, botocore.session\n'
            'session, core = boto3.session.Session(), botocore.session.get_session()\n'
            'out = []\n'
            'for kind, args in json.load(sys.stdin):\n'
            '    if kind == "services": out.append([session.get_available_services(), core.get_available_services()])\n'
            '    elif kind == "resources": out.append(session.get_available_resources())\n'
            '    elif kind == "partitions": out.append([session.get_available_partitions(), core.get_available_partitions()])\n'
            '    else: out.append([session.get_available_regions(*args), core.get_available_regions(*args)])\n'
            'print(json.dumps(out))\n')
        env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
        run = subprocess.run(['/usr/bin/python3', '-c', script], input=json.dumps(asks), env=env, cwd='/',
                             capture_output=True, text=True, timeout=120, check=True)
        real = json.loads(run.stdout)
        session, core = boto3.session.Session(), botocore.session.get_session()
        standin = []
        for kind, args in asks:
            if kind == 'services':
                standin.append([session.get_available_services(), core.get_available_services()])
            elif kind == 'resources':
                standin.append(session.get_available_resources())
            elif kind == 'partitions':
                standin.append([session.get_available_partitions(), core.get_available_partitions()])
            else:
                standin.append([session.get_available_regions(*args), core.get_available_regions(*args)])
        self.assertGreater(len(real[0][0]), 300)
        self.assertIn('us-east-1', real[3][0])
        self.assertEqual(real, standin)

    def test_clients_name_the_endpoint_and_region_botocore_names(self):
        # meta.endpoint_url and meta.region_name of a client of every service (the stand-in's S3, own and model-read
        # clients, and the real botocore's where it makes the client) in three partitions, as Debian's botocore names
        # them in another process: the global services' partition endpoints (IAM's https://iam.amazonaws.com in
        # 'aws-global'), entries with their own hostnames (SimpleDB in us-east-1), S3's legacy us-east-1 endpoint.
        import boto3
        regions = ('us-east-1', 'eu-west-1', 'cn-north-1')
        names = [name for name in sorted(os.listdir(DATA)) if os.path.isdir(os.path.join(DATA, name))]
        script = ('import json, sys, boto3\n'
                  'out = {}\n'
                  'for service, region in json.load(sys.stdin):\n'
                  '    c = boto3.client(service, region_name=region, aws_access_key_id="a", aws_secret_access_key="b")\n'
                  '    out[service + "@" + region] = [c.meta.endpoint_url, c.meta.region_name]\n'
                  'print(json.dumps(out))\n')
        asks = [(service, region) for service in names for region in regions]
        env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'AWS_S3_US_EAST_1_REGIONAL_ENDPOINT',
                                                                'AWS_STS_REGIONAL_ENDPOINTS')}
        run = subprocess.run(['/usr/bin/python3', '-c', script], input=json.dumps(asks), env=env, cwd='/',
                             capture_output=True, text=True, timeout=300, check=True)
        real = json.loads(run.stdout)
        standin = {}
        for service, region in asks:
            client = boto3.client(service, region_name=region)
            standin[f'{service}@{region}'] = [client.meta.endpoint_url, client.meta.region_name]
        self.assertEqual(['https://iam.amazonaws.com', 'aws-global'], real['iam@eu-west-1'])
        self.assertEqual(['https://s3.amazonaws.com', 'us-east-1'], real['s3@us-east-1'])
        different = [key for key in real if real[key] != standin[key]]
        self.assertEqual([], different[:20], f'{len(different)} of {len(real)} differ from botocore')

    def test_method_names_are_botocore_s(self):
        # Every operation and member name of every service, both separators: ListWebACLs -> list_web_acls, the
        # iSCSI and PartiQL names botocore lists itself, ...
        import importlib.util
        from botocore import xform_name
        spec = importlib.util.spec_from_file_location('real_botocore_init', os.path.join(os.path.dirname(DATA), '__init__.py'))
        real = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(real)
        names = set()
        for service in os.listdir(DATA):
            folder = os.path.join(DATA, service)
            if os.path.isdir(folder):
                with open(os.path.join(folder, sorted(os.listdir(folder))[-1], 'service-2.json')) as f:
                    model = json.load(f)
                names.update(model['operations'])
                names.update(member for shape in model['shapes'].values() for member in shape.get('members', {}))
        self.assertGreater(len(names), 30000)
        different = [(name, sep) for name in sorted(names) for sep in '_-' if xform_name(name, sep) != real.xform_name(name, sep)]
        self.assertEqual([], different[:20])


if __name__ == '__main__':
    unittest.main()
