# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""hello-s3: get a small object, put a short summary of it."""

import hashlib
import json
import os
import posixpath
import urllib.parse

import boto3

# Created once per instance, as Lambda code does, and reused by warm invocations.
s3 = boto3.client("s3")


def input_object(event):
    """The object named by an S3 event (keys arrive URL-encoded, as from Lambda), else the configured default."""
    try:
        record = event["Records"][0]["s3"]
        return record["bucket"]["name"], urllib.parse.unquote_plus(record["object"]["key"])
    except (KeyError, IndexError, TypeError):
        return os.environ["INPUT_BUCKET"], os.environ["INPUT_KEY"]


def handler(event, context):
    bucket, key = input_object(event)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    summary = {
        "source": f"{bucket}/{key}",
        "bytes": len(body),
        "lines": body.count(b"\n"),
        "sha256": hashlib.sha256(body).hexdigest(),
        "first_line": body.split(b"\n", 1)[0].decode("utf-8", "replace"),
    }
    out_key = os.environ["OUTPUT_PREFIX"] + posixpath.basename(key) + ".json"
    s3.put_object(Bucket=bucket, Key=out_key, Body=json.dumps(summary).encode(), ContentType="application/json")
    return {"input": key, "output": out_key, "bytes": len(body), "sha256": summary["sha256"]}
