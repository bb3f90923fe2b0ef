# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Cost of `import boto3; boto3.client("s3")` with the stand-in, against bare Python and Debian's real boto3.

    /usr/bin/python3 runtime/frontend/measure_import.py [--runs N] [--per-call] [--services]

Each sample is a fresh interpreter (the cold path of a sandbox). Wall and CPU
time are measured inside the child around the import and the client creation
(CPU time is the steadier figure on a loaded machine); memory is the
child's peak RSS (VmHWM, read by the child itself, so a pre-exec copy of this
script does not count) minus that of a child that imports nothing. Medians are
printed. No channel is opened: the stand-in connects on the first call, so this
is exactly what a handler module pays at import time.

--services adds, for services the stand-in serves (own and model-read clients), a client and its first call (up to the request
leaving, with no service behind it) by the stand-in and by real boto3.

--per-call adds the stand-in's own CPU per get_object of 1 KiB (validation,
conversion, StreamingBody) over the in-memory fake transport of the unit tests,
with the fake's own cost subtracted: the sandbox-side work per S3 call.
"""

import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

_CHILD = r'''
import time
t0, c0 = time.perf_counter(), time.process_time()
{body}
t1, c1 = time.perf_counter(), time.process_time()
import sys
with open('/proc/self/status') as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))
print((t1 - t0) * 1000.0, (c1 - c0) * 1000.0, hwm, len(sys.modules))
'''

CASES = {
    'bare python': ('pass', None),
    'stand-in: import boto3 + client("s3")': ('import boto3\nc = boto3.client("s3")', HERE),
    'stand-in: + resource("s3")': ('import boto3\nc = boto3.client("s3")\nr = boto3.resource("s3")', HERE),
    'real boto3 1.26: import boto3 + client("s3")': (
        'import boto3\nc = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", '
        'aws_secret_access_key="y")', None),
    # The generic path: the first non-S3 client loads the real SDK beside the stand-in (no call is made).
    'stand-in: import boto3 + client("dynamodb")': (
        'import boto3\nc = boto3.client("dynamodb", region_name="us-east-1")', HERE),
    'real boto3 1.26: import boto3 + client("dynamodb")': (
        'import boto3\nc = boto3.client("dynamodb", region_name="us-east-1", aws_access_key_id="x", '
        'aws_secret_access_key="y")', None),
}

# --services: a client of services the stand-in serves (own and model-read clients), and its first call up to the request
# leaving (the stand-in: checked and serialized, then the channel, here a stub, refuses it; real boto3: checked,
# serialized and signed, then a before-send handler refuses it). The answer's parsing is left out of both.
FIRST_CALLS = [
    ('dynamodb', 'get_item(TableName="orders", Key={"pk": {"S": "a"}})'),
    ('lambda', 'invoke(FunctionName="f", Payload=b"{}")'),
    ('sqs', 'send_message(QueueUrl="https://sqs.us-east-1.amazonaws.com/1/q", MessageBody="m")'),
    ('kms', 'decrypt(CiphertextBlob=b"sealed")'),
    ('events', 'put_events(Entries=[{"Source": "s", "DetailType": "d", "Detail": "{}"}])'),
    ('cloudwatch', 'put_metric_data(Namespace="N", MetricData=[{"MetricName": "m", "Value": 1.0}])'),
    # Model-read clients (no own client: the service's model read whole, _nexus_model_clients.py); Glue's is large.
    ('rekognition', 'detect_labels(Image={"S3Object": {"Bucket": "photos", "Name": "cat.jpg"}})'),
    ('cognito-idp', 'admin_get_user(UserPoolId="us-east-1_pool", Username="ada")'),
    ('glue', 'get_table(DatabaseName="db", Name="orders")'),
    ('ec2', 'describe_instances(InstanceIds=["i-1"])'),
    # Model-read with botocore's handlers done as it does them (IAM's policy documents, Route 53's ids).
    ('iam', 'get_role_policy(RoleName="r", PolicyName="p")'),
    ('route53', 'get_hosted_zone(Id="/hostedzone/Z1")'),
    # Own clients' calls outside their slices: the service's whole model read on this first need.
    ('dynamodb', 'describe_table(TableName="orders")'),
    ('sqs', 'create_queue(QueueName="q")'),
]
# Resources made from boto3's resources-1.json (boto3/resources/factory.py) and their first call.
RESOURCE_CALLS = [
    ('dynamodb', 'resource Table.put_item', 'r.Table("orders").put_item(Item={"pk": "a", "n": 1})'),
    ('sqs', 'resource Queue.send_message', 'r.Queue("https://sqs.us-east-1.amazonaws.com/1/q").send_message(MessageBody="m")'),
    ('ec2', 'resource instances.filter', 'list(r.instances.filter(InstanceIds=["i-1"]))'),
]
# A client (c = boto3.client(...)) or resource (r = boto3.resource(...); its client is r.meta.client) and its first
# call, stopped where the request would leave: the stand-in's channel refuses it, the real SDK's before-send does.
_STAND_IN_FIRST = """import boto3, botocore.client
class Refused(Exception): pass
class Stub:
    def call(self, *args, **kwargs): raise Refused()
botocore.client._set_transport(Stub())
{name} = boto3.{kind}("{service}", region_name="us-east-1")
try: {call}
except Refused: pass"""
_REAL_FIRST = """import boto3
class Refused(Exception): pass
def refuse(**kwargs): raise Refused()
{name} = boto3.{kind}("{service}", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="y")
{client}.meta.events.register("before-send", refuse)
try: {call}
except Refused: pass"""


def service_cases():
    cases = {}
    firsts = [(service, call.split('(')[0], 'client', 'c.' + call) for service, call in FIRST_CALLS] + \
        [(service, name, 'resource', call) for service, name, call in RESOURCE_CALLS]
    for service, name, kind, call in firsts:
        made = {'kind': kind, 'name': kind[0], 'client': 'c' if kind == 'client' else 'r.meta.client',
                'service': service, 'call': call}
        cases[f'stand-in: {service} {name}'] = (_STAND_IN_FIRST.format(**made), HERE)
        cases[f'real boto3 1.26: {service} {name}'] = (_REAL_FIRST.format(**made), None)
    return cases


# Bytecode as a built image has it (compiled once), kept out of the repository.
_PYCACHE = os.path.join(tempfile.gettempdir(), 'nexus-measure-pycache')


def sample(body, pythonpath):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PYTHONDONTWRITEBYTECODE')}
    env['PYTHONPYCACHEPREFIX'] = _PYCACHE
    if pythonpath:
        env['PYTHONPATH'] = pythonpath
    # cwd '/': with -c, sys.path[0] is the working directory, which must not shadow the boto3 under test.
    child = subprocess.Popen([sys.executable, '-c', _CHILD.format(body=body)], stdout=subprocess.PIPE, env=env, cwd='/')
    out = child.stdout.read()
    child.stdout.close()
    if child.wait() != 0:
        raise SystemExit(f'child failed ({child.returncode}): {body!r}')
    millis, cpu, hwm, modules = out.split()
    return float(millis), float(cpu), int(hwm), int(modules)


def per_call(ops=5000):
    sys.path[:0] = [HERE, os.path.join(HERE, 'tests')]
    import time

    import boto3
    import botocore.client
    from fake_transport import FakeTransport

    transport = FakeTransport()
    transport.put('bucket', 'k', b'x' * 1024)
    botocore.client._set_transport(transport)
    s3 = boto3.client('s3')

    def cpu(call):
        start = time.process_time()
        for _ in range(ops):
            call()
        return (time.process_time() - start) / ops * 1e6

    cpu(lambda: s3.get_object(Bucket='bucket', Key='k')['Body'].read())  # warm-up
    total = cpu(lambda: s3.get_object(Bucket='bucket', Key='k')['Body'].read())
    fake = cpu(lambda: transport.call('GetObject', {'Bucket': 'bucket', 'Key': 'k'}).body.read())
    print(f'stand-in CPU per get_object (1 KiB), transport excluded: {total - fake:.1f} us '
          f'({total:.1f} us with the fake transport, {fake:.1f} us the fake alone)')


def main(argv):
    runs = int(argv[argv.index('--runs') + 1]) if '--runs' in argv else 15
    results = {}
    cases = dict(CASES, **service_cases()) if '--services' in argv else CASES
    for name, (body, path) in cases.items():
        sample(body, path)  # warm-up: writes the bytecode cache
        samples = [sample(body, path) for _ in range(runs)]
        results[name] = tuple(statistics.median(s[i] for s in samples) for i in range(3)) + (samples[0][3],)
    bare_rss = results['bare python'][2]
    print(f'{sys.executable} {sys.version.split()[0]}, median of {runs} fresh interpreters, '
          f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs')
    print(f'{"":52} {"wall ms":>8} {"CPU ms":>7} {"max RSS KiB":>12} {"above bare":>11} {"modules":>8}')
    for name, (millis, cpu, rss, modules) in results.items():
        print(f'{name:52} {millis:8.2f} {cpu:7.2f} {rss:12.0f} {rss - bare_rss:11.0f} {modules:8d}')
    if '--per-call' in argv:
        per_call()
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
