# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""thumbnail: get a photo, shrink it to fit 128x128 keeping its aspect ratio, put the JPEG thumbnail."""

import io
import os
import posixpath
import urllib.parse

import boto3
from PIL import Image

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
    with Image.open(io.BytesIO(body)) as image:
        image.thumbnail((128, 128))
        size = image.size
        out = io.BytesIO()
        image.convert("RGB").save(out, format="JPEG", quality=85)
    out_key = os.environ["OUTPUT_PREFIX"] + posixpath.splitext(posixpath.basename(key))[0] + "-thumb.jpg"
    s3.put_object(Bucket=bucket, Key=out_key, Body=out.getvalue(), ContentType="image/jpeg")
    return {"input": key, "output": out_key, "size": list(size), "bytes": out.tell()}
