#!/usr/bin/python3
# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Seeds the examples' input objects into bucket nexus-examples (idempotent, same bytes every run).

    /usr/bin/python3 examples/seed_inputs.py --endpoint http://127.0.0.1:9780 --access-key KEY --secret-key SECRET

Needs Debian's python3-boto3 and python3-pil. Objects already present with the same content are left alone.
"""

import argparse
import hashlib
import io
import json
import os
import random
import sys

SEED = 20261122
BUCKET = "nexus-examples"


def hello_text(rng):
    """1 KiB of text: a greeting, then seeded lines."""
    lines = ["Hello from Nexus!"]
    words = ["serverless", "sandbox", "channel", "backend", "frontend", "object", "store", "node", "runtime", "image"]
    while sum(len(line) + 1 for line in lines) < 1024:
        lines.append(" ".join(rng.choice(words) for _ in range(rng.randint(3, 9))))
    return ("\n".join(lines) + "\n").encode()[:1023] + b"\n"


def photo_jpeg(rng, width=1536, height=1024):
    """About 1 MiB of JPEG: smooth colour gradients under seeded noise, like a grainy photo."""
    from PIL import Image

    gradient = Image.merge("RGB", (
        Image.linear_gradient("L").resize((width, height)),
        Image.linear_gradient("L").rotate(90).resize((width, height)),
        Image.radial_gradient("L").resize((width, height)),
    ))
    noise = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
    image = Image.blend(gradient, noise, 0.5)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


def orders_json(rng, target=256 * 1024):
    """About 256 KiB of JSON: orders of customers, each with a few line items."""
    customers = [f"customer-{i:03d}" for i in range(120)]
    skus = [f"SKU-{rng.randrange(16**6):06X}" for _ in range(400)]
    orders = []
    size = 0
    while size < target:
        items = [{"sku": rng.choice(skus), "qty": rng.randint(1, 5), "price": round(rng.uniform(0.5, 250.0), 2)}
                 for _ in range(rng.randint(1, 6))]
        order = {"id": f"order-{len(orders):06d}", "customer": rng.choice(customers), "items": items,
                 "status": rng.choice(["new", "paid", "shipped", "delivered"]), "note": "" if rng.random() < 0.7 else "gift"}
        orders.append(order)
        size += len(json.dumps(order)) + 2
    return json.dumps({"version": 1, "orders": orders}).encode()


def app_log(rng, target=1024 * 1024):
    """About 1 MiB of semi-compressible data: access-log lines with repeating structure and random fields."""
    paths = ["/api/v1/orders", "/api/v1/users", "/api/v1/cart", "/healthz", "/static/app.js", "/api/v1/search"]
    levels = ["INFO"] * 8 + ["WARN", "ERROR"]
    lines = []
    size = 0
    ms = 0
    while size < target:
        ms += rng.randint(1, 900)
        line = (f"2026-11-22T{ms // 3600000 % 24:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}Z "
                f"{rng.choice(levels)} req={rng.randrange(16**8):08x} user=u{rng.randint(1, 5000)} "
                f"path={rng.choice(paths)} status={rng.choice([200] * 9 + [404, 500])} ms={rng.randint(1, 2000)}")
        lines.append(line)
        size += len(line) + 1
    return ("\n".join(lines) + "\n").encode()[:target]


def message(rng, size=1024):
    """1 KiB of text for pure-Python AES (about 0.1 s of CPU: vSwarm's aes-python range)."""
    words = ["nexus", "channel", "sandbox", "cipher", "block", "counter", "round", "key"]
    text = " ".join(rng.choice(words) for _ in range(size))
    return text.encode()[:size]


def training_set(rng, rows=4000, features=16):
    """About 530 KiB .npy (float64, written without numpy, which the host may lack): two Gaussian classes, label last."""
    import array

    centres = [[rng.gauss(0, 1) for _ in range(features)] for _ in range(2)]
    values = array.array("d")
    for _ in range(rows):
        label = rng.randrange(2)
        values.extend(c + rng.gauss(0, 1.5) for c in centres[label])
        values.append(float(label))
    if sys.byteorder != "little":
        values.byteswap()
    header = f"{{'descr': '<f8', 'fortran_order': False, 'shape': ({rows}, {features + 1}), }}"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode("latin1") + values.tobytes()


def inputs():
    """(key, bytes, content type) of every example input; one seeded generator per object, so each is stable alone."""
    return [
        ("hello-s3/input/hello.txt", hello_text(random.Random(SEED + 1)), "text/plain"),
        ("image-rotate/input/photo.jpg", photo_jpeg(random.Random(SEED + 2)), "image/jpeg"),
        ("json-serdes/input/orders.json", orders_json(random.Random(SEED + 3)), "application/json"),
        ("compression/input/app.log", app_log(random.Random(SEED + 4)), "text/plain"),
        ("thumbnail/input/photo.jpg", photo_jpeg(random.Random(SEED + 11)), "image/jpeg"),
        ("aes/input/message.txt", message(random.Random(SEED + 12)), "text/plain"),
        ("numpy-lr/input/train.npy", training_set(random.Random(SEED + 13)), "application/octet-stream"),
    ]


def sized_blob(rng, size):
    """Seeded bytes of an exact size: the size-scaled inputs of `nexus bench compare` for hello-s3."""
    return rng.randbytes(size)


def bench_inputs():
    """The benchmark's 1 MiB and 10 MiB inputs (hello-s3: exact sizes; image-rotate: JPEGs of about those sizes)."""
    return [
        ("hello-s3/input/blob-1mib.bin", sized_blob(random.Random(SEED + 21), 1 << 20), "application/octet-stream"),
        ("hello-s3/input/blob-10mib.bin", sized_blob(random.Random(SEED + 22), 10 << 20), "application/octet-stream"),
        ("image-rotate/input/photo-1mib.jpg", photo_jpeg(random.Random(SEED + 23)), "image/jpeg"),
        ("image-rotate/input/photo-10mib.jpg", photo_jpeg(random.Random(SEED + 24), width=4864, height=3240), "image/jpeg"),
    ]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoint", default=os.environ.get("NEXUS_S3_ENDPOINT", "http://127.0.0.1:9780"))
    parser.add_argument("--access-key", default=os.environ.get("AWS_ACCESS_KEY_ID"))
    parser.add_argument("--secret-key", default=os.environ.get("AWS_SECRET_ACCESS_KEY"))
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--bucket", default=BUCKET)
    parser.add_argument("--list", action="store_true", help="print the inputs' keys and sizes without contacting the store")
    parser.add_argument("--bench", action="store_true", help="also the benchmark's 1 MiB and 10 MiB inputs (nexus bench compare)")
    args = parser.parse_args(argv)

    objects = inputs() + (bench_inputs() if args.bench else [])
    if args.list:
        for key, body, _ in objects:
            print(f"{key}\t{len(body)}")
        return 0
    if not args.access_key or not args.secret_key:
        parser.error("--access-key and --secret-key are required (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)")

    import boto3
    from botocore.exceptions import ClientError, EndpointConnectionError

    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name=args.region,
                      aws_access_key_id=args.access_key, aws_secret_access_key=args.secret_key)
    try:
        try:
            s3.head_bucket(Bucket=args.bucket)
        except ClientError as e:
            if e.response["Error"]["Code"] not in ("404", "NoSuchBucket"):
                raise
            s3.create_bucket(Bucket=args.bucket)
            print(f"created bucket {args.bucket}")

        for key, body, content_type in objects:
            md5 = hashlib.md5(body).hexdigest()
            try:
                if s3.head_object(Bucket=args.bucket, Key=key)["ETag"].strip('"') == md5:
                    print(f"unchanged {args.bucket}/{key} ({len(body)} bytes)")
                    continue
            except ClientError as e:
                if e.response["Error"]["Code"] not in ("404", "NoSuchKey"):
                    raise
            s3.put_object(Bucket=args.bucket, Key=key, Body=body, ContentType=content_type)
            print(f"put {args.bucket}/{key} ({len(body)} bytes)")
    except EndpointConnectionError as e:
        print(f"seed_inputs: cannot reach the store at {args.endpoint}: {e}", file=sys.stderr)
        return 1
    except ClientError as e:
        print(f"seed_inputs: the store at {args.endpoint} refused: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
