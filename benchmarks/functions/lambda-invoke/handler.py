# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""lambda-invoke: passes the key its event names to another function, synchronously, and returns that answer."""

import json
import os

import boto3

# Unchanged handler code: in nexus mode the call goes over the channel, in baseline to the node's signing proxy.
lam = boto3.client("lambda", region_name="us-east-1")
CALLEE = os.environ["CALLEE"]


def handler(event, context):
    key = event["Records"][0]["s3"]["object"]["key"]
    answer = lam.invoke(FunctionName=CALLEE, Payload=json.dumps({"key": key}).encode())
    if "FunctionError" in answer:
        raise RuntimeError(f"{CALLEE} failed: {answer['Payload'].read().decode()}")
    return json.loads(answer["Payload"].read())
