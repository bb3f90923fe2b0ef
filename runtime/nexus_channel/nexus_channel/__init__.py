# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Sandbox end of the Nexus channel (docs/channel.md, layout version 2). Standard library only.

    transport = nexus_channel.connect_from_env()
    resp = transport.call("GetObject", {"Bucket": "b", "Key": "k"})
    resp.status, resp.meta, resp.body.read()
"""

import mmap
import os
import struct
import threading

from nexus_channel.body import BodyStream, Response
from nexus_channel.invocations import Invocation, InvocationSource
from nexus_channel.layout import OPS, ChannelError, ChannelTimeout
from nexus_channel.restore import Restore, read_restore
from nexus_channel.transport import Transport

__all__ = ["ChannelError", "ChannelTimeout", "Transport", "Response", "BodyStream", "Invocation",
           "InvocationSource", "Restore", "read_restore", "connect_from_env", "OPS"]

_default = None
_default_lock = threading.Lock()


def connect_from_env():
    """The process's transport, from NEXUS_CHANNEL_FD, NEXUS_DOORBELL_TO_HOST_FD, NEXUS_DOORBELL_TO_SANDBOX_FD (a
    container), or from the character device NEXUS_CHANNEL_DEVICE names (a microVM: /dev/nexus-region)."""
    global _default
    with _default_lock:
        if _default is None:
            env = os.environ
            try:
                device = env.get("NEXUS_CHANNEL_DEVICE")
                region = int(env.get("NEXUS_CHANNEL_FD", "3"))
                to_host = int(env.get("NEXUS_DOORBELL_TO_HOST_FD", "4"))
                from_host = int(env.get("NEXUS_DOORBELL_TO_SANDBOX_FD", "5"))
                size = int(env["NEXUS_CHANNEL_SIZE"]) if env.get("NEXUS_CHANNEL_SIZE") else None
                spin = int(env.get("NEXUS_CHANNEL_SPIN", "0"))
            except ValueError as e:
                raise ChannelError(f"bad Nexus channel environment: {e}") from None
            if device:
                region, size = _open_device(device)
                to_host = from_host = region
            _default = Transport(region, to_host, from_host, size, spin)
        return _default


def _open_device(path):
    """Opens a microVM's region device (guest/driver/nexus.c): one descriptor that mmap maps as the region, whose 8-byte
    writes ring the host's doorbell and whose 8-byte reads wait for the host's interrupt, the three descriptors of a
    container in one. Its size is its end. A region the host has not filled yet (all zero: a boot for a ready snapshot)
    is announced with one ring, then waited for: the host fills it and raises the interrupt (after a restore)."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
        size = os.lseek(fd, 0, os.SEEK_END)
        with mmap.mmap(fd, mmap.PAGESIZE, mmap.MAP_SHARED, mmap.PROT_READ) as header:
            if struct.unpack_from("<I", header, 0)[0] == 0:
                os.eventfd_write(fd, 1)
                while struct.unpack_from("<I", header, 0)[0] == 0:
                    os.eventfd_read(fd)
    except OSError as e:
        raise ChannelError(f"cannot open the Nexus region device {path}: {e}") from None
    return fd, size
