# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Test driver: runs one example through the real runtime (baseline mode, real boto3) against a real store.

    invoke_example.py <runtime dir> <example dir> <handler>

The environment carries the function's (manifest environment, its own limited key, NEXUS_S3_ENDPOINT) plus
CHECK_ACCESS_KEY / CHECK_SECRET_KEY, an admin key used only here to read inputs and outputs back.
Prints one JSON object: the results of three invocations (S3 event twice: cold then warm; empty event: the
manifest's defaults) and what the output object holds.
"""

import hashlib
import io
import json
import os
import subprocess
import sys
import zlib

runtime_dir, example_dir, handler = sys.argv[1:4]
sys.path.insert(0, runtime_dir)
from nexus_runtime.tests.fake_runtime_api import FakeRuntimeApi  # noqa: E402

api = FakeRuntimeApi()
env = {k: v for k, v in os.environ.items() if not k.startswith("CHECK_")}
env.update({"PYTHONPATH": runtime_dir, "NEXUS_IO": "baseline", "_HANDLER": handler, "LAMBDA_TASK_ROOT": example_dir,
            "AWS_LAMBDA_RUNTIME_API": api.address, "PYTHONDONTWRITEBYTECODE": "1"})
process = subprocess.Popen([sys.executable, "-m", "nexus_runtime"], cwd=example_dir, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
try:
    with open(os.path.join(example_dir, "event.json"), "rb") as f:
        event = f.read()
    results = []
    for request_id, body in (("cold", event), ("warm", event), ("defaults", b"{}")):
        api.invoke(request_id, body)
        path, _, answer = api.next_post(timeout=120)
        results.append({"path": path, "body": json.loads(answer)})
finally:
    process.kill()
    log = process.communicate()[0].decode("utf-8", "replace")
    api.close()

import boto3  # noqa: E402  (the check's own client, after the runtime has finished)

s3 = boto3.client("s3", endpoint_url=env["NEXUS_S3_ENDPOINT"], region_name="us-east-1",
                  aws_access_key_id=os.environ["CHECK_ACCESS_KEY"], aws_secret_access_key=os.environ["CHECK_SECRET_KEY"])
check = {}
first = results[0]["body"]
if "output" in first:
    source = s3.get_object(Bucket="nexus-examples", Key=first["input"])["Body"].read()
    output = s3.get_object(Bucket="nexus-examples", Key=first["output"])
    data = output["Body"].read()
    check = {"content_type": output["ContentType"], "bytes": len(data)}
    name = os.path.basename(example_dir.rstrip("/"))
    if name == "hello-s3":
        check["sha256_matches"] = json.loads(data)["sha256"] == hashlib.sha256(source).hexdigest()
    elif name == "image-rotate":
        from PIL import Image
        with Image.open(io.BytesIO(source)) as before, Image.open(io.BytesIO(data)) as after:
            check["rotated"] = after.size == (before.size[1], before.size[0]) and after.format == before.format
    elif name == "json-serdes":
        check["orders_match"] = json.loads(data)["orders"] == len(json.loads(source)["orders"])
    elif name == "compression":
        check["roundtrip"] = zlib.decompress(data) == source
print(json.dumps({"results": results, "check": check, "log": log}))
