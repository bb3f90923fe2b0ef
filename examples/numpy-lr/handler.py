# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""numpy-lr: get a training set (.npy, last column the 0/1 label), fit a logistic regression by batch gradient
descent, put the weights and the training accuracy as JSON."""

import io
import json
import os
import posixpath
import urllib.parse

import boto3
import numpy as np

s3 = boto3.client("s3")


def input_object(event):
    """The object named by an S3 event (keys arrive URL-encoded, as from Lambda), else the configured default."""
    try:
        record = event["Records"][0]["s3"]
        return record["bucket"]["name"], urllib.parse.unquote_plus(record["object"]["key"])
    except (KeyError, IndexError, TypeError):
        return os.environ["INPUT_BUCKET"], os.environ["INPUT_KEY"]


def train(x, y, epochs, rate=0.5):
    x = np.hstack([x, np.ones((x.shape[0], 1))])
    w = np.zeros(x.shape[1])
    for _ in range(epochs):
        p = 1 / (1 + np.exp(-(x @ w)))
        w -= rate * (x.T @ (p - y)) / len(y)
    accuracy = float(((x @ w > 0) == (y > 0.5)).mean())
    return w, accuracy


def handler(event, context):
    bucket, key = input_object(event)
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    data = np.load(io.BytesIO(body), allow_pickle=False)
    if data.ndim != 2 or data.shape[1] < 2:
        raise ValueError(f"{bucket}/{key}: expected a 2-D array with features and a label column, got shape {data.shape}")
    w, accuracy = train(data[:, :-1], data[:, -1], int(os.environ.get("EPOCHS", "200")))
    out_key = os.environ["OUTPUT_PREFIX"] + posixpath.splitext(posixpath.basename(key))[0] + "-model.json"
    result = {"input": key, "rows": int(data.shape[0]), "features": int(data.shape[1] - 1), "accuracy": accuracy}
    s3.put_object(Bucket=bucket, Key=out_key, Body=json.dumps({**result, "weights": w.tolist()}).encode(), ContentType="application/json")
    return {**result, "output": out_key}
