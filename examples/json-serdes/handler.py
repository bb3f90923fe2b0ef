# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""json-serdes: get a JSON document of orders, parse it, aggregate per customer, dump and put the report."""

import json
import os
import posixpath
import urllib.parse

import boto3

s3 = boto3.client("s3")


def input_object(event):
    """The object named by an S3 event (keys arrive URL-encoded, as from Lambda), else the configured default."""
    try:
        record = event["Records"][0]["s3"]
        return record["bucket"]["name"], urllib.parse.unquote_plus(record["object"]["key"])
    except (KeyError, IndexError, TypeError):
        return os.environ["INPUT_BUCKET"], os.environ["INPUT_KEY"]


def report(orders):
    customers = {}
    for order in orders:
        total = sum(item["qty"] * item["price"] for item in order["items"])
        entry = customers.setdefault(order["customer"], {"customer": order["customer"], "orders": 0, "items": 0, "total": 0.0})
        entry["orders"] += 1
        entry["items"] += sum(item["qty"] for item in order["items"])
        entry["total"] = round(entry["total"] + total, 2)
    ranked = sorted(customers.values(), key=lambda c: (-c["total"], c["customer"]))
    return {"orders": len(orders), "customers": len(ranked), "revenue": round(sum(c["total"] for c in ranked), 2), "ranking": ranked}


def handler(event, context):
    bucket, key = input_object(event)
    document = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    result = report(document["orders"])
    out_key = os.environ["OUTPUT_PREFIX"] + posixpath.basename(key)
    body = json.dumps(result, indent=1, sort_keys=True).encode()
    s3.put_object(Bucket=bucket, Key=out_key, Body=body, ContentType="application/json")
    return {"input": key, "output": out_key, "orders": result["orders"], "customers": result["customers"], "revenue": result["revenue"]}
