# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""ddb-orders: count the events naming one order, as a DynamoDB GetItem then PutItem of that order's item."""

import os
import urllib.parse

import boto3

# Baseline: the endpoint the node hands baseline sandboxes; nexus mode: unset (the node routes the calls).
ddb = boto3.client("dynamodb", region_name="us-east-1", endpoint_url=os.environ.get("NEXUS_DYNAMODB_ENDPOINT"))
TABLE = os.environ["TABLE"]


def handler(event, context):
    order = urllib.parse.unquote_plus(event["Records"][0]["s3"]["object"]["key"])
    item = ddb.get_item(TableName=TABLE, Key={"pk": {"S": order}}, ConsistentRead=True).get("Item")
    count = int(item["n"]["N"]) + 1 if item else 1
    ddb.put_item(TableName=TABLE, Item={"pk": {"S": order}, "n": {"N": str(count)}, "note": {"S": "x" * 1000}})
    return {"order": order, "count": count}
