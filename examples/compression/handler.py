# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""compression: get a blob, zlib-compress it, put the compressed object."""

import os
import posixpath
import urllib.parse
import zlib

import boto3

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
    compressed = zlib.compress(body, int(os.environ.get("LEVEL", "6")))
    out_key = os.environ["OUTPUT_PREFIX"] + posixpath.basename(key) + ".zz"
    s3.put_object(Bucket=bucket, Key=out_key, Body=compressed, ContentType="application/zlib")
    return {"input": key, "output": out_key, "bytes": len(body), "compressed": len(compressed),
            "ratio": round(len(body) / max(1, len(compressed)), 2)}
