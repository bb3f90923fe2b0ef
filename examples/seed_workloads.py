#!/usr/bin/python3
# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Seeds the inputs of the evaluation workloads thumbnail, aes and numpy-lr (same arguments as seed_inputs.py).

    /usr/bin/python3 examples/seed_workloads.py --endpoint http://127.0.0.1:9780 --access-key KEY --secret-key SECRET

Needs Debian's python3-boto3 and python3-pil. Idempotent, same bytes every run.
"""

import io
import random
import sys

import seed_inputs


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
    return [
        ("thumbnail/input/photo.jpg", seed_inputs.photo_jpeg(random.Random(seed_inputs.SEED + 11)), "image/jpeg"),
        ("aes/input/message.txt", message(random.Random(seed_inputs.SEED + 12)), "text/plain"),
        ("numpy-lr/input/train.npy", training_set(random.Random(seed_inputs.SEED + 13)), "application/octet-stream"),
    ]


if __name__ == "__main__":
    # seed_inputs.main does the argument parsing and idempotent upload; only the object list differs.
    seed_inputs.inputs = inputs
    sys.exit(seed_inputs.main())
