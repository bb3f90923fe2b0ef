# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""aes: get a message, encrypt it with AES-128-CTR written in pure Python (CPU-bound, like vSwarm's aes-python),
put the ciphertext."""

import hashlib
import os
import posixpath
import urllib.parse

import boto3

s3 = boto3.client("s3")


def _sbox():
    """The AES S-box, computed (multiplicative inverse in GF(2^8), then the affine map)."""
    box = [0] * 256
    p = q = 1
    while True:
        p = p ^ ((p << 1) & 0xFF) ^ (0x1B if p & 0x80 else 0)
        q ^= q << 1
        q ^= q << 2
        q ^= q << 4
        q &= 0xFF
        if q & 0x80:
            q ^= 0x09
        x = q ^ (((q << 1) | (q >> 7)) & 0xFF) ^ (((q << 2) | (q >> 6)) & 0xFF) ^ (((q << 3) | (q >> 5)) & 0xFF) ^ (((q << 4) | (q >> 4)) & 0xFF)
        box[p] = x ^ 0x63
        if p == 1:
            break
    box[0] = 0x63
    return box


SBOX = _sbox()


def _xtime(a):
    return ((a << 1) ^ 0x1B) & 0xFF if a & 0x80 else a << 1


def expand_key(key):
    words = [list(key[i:i + 4]) for i in range(0, 16, 4)]
    rcon = 1
    for i in range(4, 44):
        w = list(words[i - 1])
        if i % 4 == 0:
            w = [SBOX[b] for b in w[1:] + w[:1]]
            w[0] ^= rcon
            rcon = _xtime(rcon)
        words.append([a ^ b for a, b in zip(words[i - 4], w)])
    return [sum(words[r * 4:r * 4 + 4], []) for r in range(11)]


def encrypt_block(block, round_keys):
    s = [b ^ k for b, k in zip(block, round_keys[0])]
    for r in range(1, 11):
        s = [SBOX[b] for b in s]
        s = [s[(i + 4 * (i % 4)) % 16] for i in range(16)]  # ShiftRows (column-major state)
        if r != 10:
            out = []
            for c in range(4):
                a = s[4 * c:4 * c + 4]
                t = a[0] ^ a[1] ^ a[2] ^ a[3]
                out += [a[i] ^ t ^ _xtime(a[i] ^ a[(i + 1) % 4]) for i in range(4)]
            s = out
        s = [b ^ k for b, k in zip(s, round_keys[r])]
    return bytes(s)


def ctr(data, key, nonce):
    round_keys = expand_key(key)
    out = bytearray()
    for i in range(0, len(data), 16):
        stream = encrypt_block(nonce + (i // 16).to_bytes(8, "big"), round_keys)
        out += bytes(a ^ b for a, b in zip(data[i:i + 16], stream))
    return bytes(out)


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
    nonce = hashlib.sha256(body).digest()[:8]
    cipher = ctr(body, bytes.fromhex(os.environ["AES_KEY_HEX"]), nonce)
    out_key = os.environ["OUTPUT_PREFIX"] + posixpath.basename(key) + ".aes"
    s3.put_object(Bucket=bucket, Key=out_key, Body=nonce + cipher, ContentType="application/octet-stream")
    return {"input": key, "output": out_key, "bytes": len(cipher), "sha256": hashlib.sha256(cipher).hexdigest()}
