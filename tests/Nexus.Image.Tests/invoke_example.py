# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Test driver: runs one example through the real runtime (baseline mode, real boto3) against a real store.

    invoke_example.py <runtime dir> <example dir> <handler>

The environment carries the function's (manifest environment, its own limited key, NEXUS_S3_ENDPOINT) plus
CHECK_ACCESS_KEY / CHECK_SECRET_KEY, an admin key used only here to read inputs and outputs back, and
optionally IMAGE_ROOTFS: run the runtime inside that image (needs root) instead of with this Python.
Prints one JSON object: the results of three invocations (S3 event twice: cold then warm; empty event: the
manifest's defaults) and what the output object holds.
"""

import hashlib
import io
import json
import os
import queue
import subprocess
import sys
import time
import zlib

runtime_dir, example_dir, handler = sys.argv[1:4]
sys.path.insert(0, runtime_dir)
from nexus_runtime.tests.fake_runtime_api import FakeRuntimeApi  # noqa: E402

api = FakeRuntimeApi()
env = {k: v for k, v in os.environ.items() if not k.startswith(("CHECK_", "IMAGE_"))}
env.update({"NEXUS_IO": "baseline", "_HANDLER": handler, "AWS_LAMBDA_RUNTIME_API": api.address, "PYTHONDONTWRITEBYTECODE": "1"})
rootfs = os.environ.get("IMAGE_ROOTFS")
if rootfs:
    # As a sandbox sees it: the image read-only, the function folder read-only at /var/task, a tmpfs /tmp, uid nobody.
    # Private mount namespace, so nothing is mounted on the host's copy of the image. Network: the host's (loopback).
    env.update({"PYTHONPATH": "/opt/nexus/runtime", "LAMBDA_TASK_ROOT": "/var/task", "HOME": "/tmp"})
    script = (
        'mount --bind "$R" "$R" && mount -o remount,bind,ro "$R" && '
        'mount --bind "$T" "$R/var/task" && mount -o remount,bind,ro "$R/var/task" && '
        'mount -t tmpfs -o nosuid,nodev tmpfs "$R/tmp" && '
        'exec /usr/sbin/chroot --userspec=65534:65534 "$R" /usr/bin/python3 -m nexus_runtime')
    command = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
    env.update({"R": rootfs, "T": example_dir})
else:
    env.update({"PYTHONPATH": runtime_dir, "LAMBDA_TASK_ROOT": example_dir})
    command = [sys.executable, "-m", "nexus_runtime"]
process = subprocess.Popen(command, cwd=example_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
try:
    with open(os.path.join(example_dir, "event.json"), "rb") as f:
        event = f.read()
    results = []
    for request_id, body in (("cold", event), ("warm", event), ("defaults", b"{}")):
        api.invoke(request_id, body)
        give_up = time.monotonic() + 300  # a hung runtime fails the test instead of hanging it
        while True:
            try:
                path, _, answer = api.next_post(timeout=1)
                break
            except queue.Empty:
                if time.monotonic() > give_up:
                    sys.exit(f"no answer to {request_id} in 300 s")
                if process.poll() is not None:
                    sys.exit(f"the runtime exited ({process.returncode}) before answering {request_id}:\n"
                             + process.stdout.read().decode("utf-8", "replace"))
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
    elif name == "thumbnail":
        from PIL import Image
        with Image.open(io.BytesIO(data)) as after:
            check["thumbnail"] = max(after.size) <= 128 and list(after.size) == first["size"] and after.format == "JPEG"
    elif name == "aes":
        cipher = data[len(data) - first["bytes"]:]
        check["encrypted"] = (first["bytes"] == len(source) and cipher != source
                              and hashlib.sha256(cipher).hexdigest() == first["sha256"])
    elif name == "numpy-lr":
        model = json.loads(data)
        check["trained"] = len(model["weights"]) in (model["features"], model["features"] + 1) and model["accuracy"] > 0.7
print(json.dumps({"results": results, "check": check, "log": log}))
