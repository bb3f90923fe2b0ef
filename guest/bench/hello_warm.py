# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A warm hello-s3 (examples/hello-s3/handler.py, unchanged) for `nexus vmm bench --linux`: the handler module is
loaded once, as in a warm instance, then called with the example's event in a loop. Its S3 client is real boto3 with a
botocore Stubber answering both calls: each call still validates and serializes its request (what boto3 does before
sending), the handler hashes and summarizes the 1 KiB object; no request is signed or sent, no reply parsed. Prints the
median time of one handler call."""

import io
import json
import os
import statistics
import sys
import time

os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench",
                  INPUT_BUCKET="nexus-examples", INPUT_KEY="hello-s3/input/hello.txt", OUTPUT_PREFIX="hello-s3/output/")
sys.path.insert(0, "/var/task")
sys.dont_write_bytecode = True

from botocore.response import StreamingBody  # noqa: E402
from botocore.stub import Stubber  # noqa: E402

import handler  # noqa: E402

WARMUP, CALLS = 20, 200
with open("/var/task/event.json", "rb") as f:
    event = json.load(f)
body = b"".join(b"line %04d of the hello-s3 bench object\n" % i for i in range(26))[:1024]
stubber = Stubber(handler.s3)
stubber.activate()
times = []
for i in range(WARMUP + CALLS):
    stubber.add_response("get_object", {"Body": StreamingBody(io.BytesIO(body), len(body)), "ContentLength": len(body)})
    stubber.add_response("put_object", {"ETag": '"0"'})
    start = time.perf_counter_ns()
    result = handler.handler(event, None)
    times.append(time.perf_counter_ns() - start)
assert result["bytes"] == len(body), result
print(f"nexus-ubench: hello-s3-warm {statistics.median(times[WARMUP:]) / 1000:.3f} us", flush=True)
