# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The region's layout as the host writes it (docs/channel.md, ChannelLayout.cs): ops, record format, header offsets;
and the errors a closed or broken channel, or a call not answered in time, raise."""

import struct

MAGIC = 0x4843584E
VERSION = 2
RECORD_SIZE = 64

OPS = {
    "GetObject": 1, "PutObject": 2, "HeadObject": 3, "DeleteObject": 4,
    "DeleteObjects": 5, "ListObjectsV2": 6, "CopyObject": 7, "HeadBucket": 8, "ListBuckets": 9,
    "GetObjectTagging": 10, "PutObjectTagging": 11, "DeleteObjectTagging": 12, "CreateBucket": 13,
    "NextInvocation": 16, "InvocationResponse": 17, "InvocationError": 18, "InitError": 19,
    "CreateMultipartUpload": 20, "UploadPart": 21, "CompleteMultipartUpload": 22, "AbortMultipartUpload": 23,
    "ListParts": 24, "GeneratePresignedUrl": 25, "ServiceRequest": 26,
}
OP_DATA = 32
OP_RELEASE = 33
OP_DATA_ACK = 48
FLAG_MORE = 1
NO_SLOT = 0xFFFFFFFF

# request_id, op, flags, status, offset, length, header_len, total_len, slot, chunk, 16 reserved bytes
REC = struct.Struct("<QHHiQIIQII16x")
HEADER_SIZE = 4096

# Header offsets (ChannelLayout.cs).
OFF_SUB_TAIL = 128
OFF_SUB_HEAD = 192
OFF_CMP_TAIL = 256
OFF_CMP_HEAD = 320
OFF_HOST_WANTS_CMP = 384
OFF_SANDBOX_WANTS_SUB = 448
OFF_HOST_CLOSED = 512


class ChannelError(Exception):
    """The channel is closed or broken; the call did not complete."""


class ChannelTimeout(Exception):
    """The host did not start answering a call within the caller's timeout. The call is abandoned: the host still
    finishes it, and its answer, when it comes, is dropped (its slots given back)."""
