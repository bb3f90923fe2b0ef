# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Cost of `import boto3; boto3.client("s3")` with the stand-in, against bare Python and Debian's real boto3.

    /usr/bin/python3 runtime/frontend/measure_import.py [--runs N]

Each sample is a fresh interpreter (the cold path of a sandbox). Time is measured
inside the child around the import and the client creation; memory is the
child's peak RSS (VmHWM, read by the child itself, so a pre-exec copy of this
script does not count) minus that of a child that imports nothing. Medians are
printed. No channel is opened: the stand-in connects on the first call, so this
is exactly what a handler module pays at import time.
"""

import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))

_CHILD = r'''
import time
t0 = time.perf_counter()
{body}
t1 = time.perf_counter()
import sys
with open('/proc/self/status') as f:
    hwm = next(int(line.split()[1]) for line in f if line.startswith('VmHWM:'))
print((t1 - t0) * 1000.0, hwm, len(sys.modules))
'''

CASES = {
    'bare python': ('pass', None),
    'stand-in: import boto3 + client("s3")': ('import boto3\nc = boto3.client("s3")', HERE),
    'stand-in: + resource("s3")': ('import boto3\nc = boto3.client("s3")\nr = boto3.resource("s3")', HERE),
    'real boto3 1.26: import boto3 + client("s3")': (
        'import boto3\nc = boto3.client("s3", region_name="us-east-1", aws_access_key_id="x", '
        'aws_secret_access_key="y")', None),
}


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
    millis, hwm, modules = out.split()
    return float(millis), int(hwm), int(modules)


def main(argv):
    runs = int(argv[argv.index('--runs') + 1]) if '--runs' in argv else 15
    results = {}
    for name, (body, path) in CASES.items():
        sample(body, path)  # warm-up: writes the bytecode cache
        samples = [sample(body, path) for _ in range(runs)]
        results[name] = (statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples),
                         samples[0][2])
    bare_rss = results['bare python'][1]
    print(f'{sys.executable} {sys.version.split()[0]}, median of {runs} fresh interpreters, '
          f'load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs')
    print(f'{"":46} {"time ms":>8} {"max RSS KiB":>12} {"above bare":>11} {"modules":>8}')
    for name, (millis, rss, modules) in results.items():
        print(f'{name:46} {millis:8.2f} {rss:12.0f} {rss - bare_rss:11.0f} {modules:8d}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
