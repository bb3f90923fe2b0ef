# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""image-rotate: get a JPEG or PNG, rotate it 90 degrees, put it back in the same format."""

import io
import os
import posixpath
import urllib.parse

import boto3
from PIL import Image

s3 = boto3.client("s3")

_CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


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
    with Image.open(io.BytesIO(body)) as image:
        kind = image.format
        if kind not in _CONTENT_TYPES:
            raise ValueError(f"{bucket}/{key} is {kind}, expected JPEG or PNG")
        rotated = image.rotate(90, expand=True)
    out = io.BytesIO()
    if kind == "JPEG":
        rotated.save(out, format="JPEG", quality=90)
    else:
        rotated.save(out, format="PNG")
    out_key = os.environ["OUTPUT_PREFIX"] + posixpath.basename(key)
    s3.put_object(Bucket=bucket, Key=out_key, Body=out.getvalue(), ContentType=_CONTENT_TYPES[kind])
    return {"input": key, "output": out_key, "format": kind, "size": list(rotated.size), "bytes": out.tell()}
