# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A forked instance's own root: its own /tmp, as each Lambda execution environment has.

The node builds the root inside the template's mount namespace (src/Nexus.Sandbox/Template/InstanceRoots.cs): the
template container's mounts with an overlay of its own on /tmp. The template holds CAP_SYS_CHROOT for this one step;
the instance enters the root and gives the capability up before any handler code runs, so that neither it nor what it
starts can chroot again.
"""

import ctypes
import os
import platform

_CAP_SYS_CHROOT = 18
_CAPABILITY_VERSION_3 = 0x20080522
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}


def can_enter() -> bool:
    """True when this process holds CAP_SYS_CHROOT (a template started with it)."""
    return bool(_effective_capabilities() & (1 << _CAP_SYS_CHROOT))


def enter(root: str) -> None:
    """Makes ``root`` this process's root (the working directory stays the same path) and drops every capability."""
    cwd = os.getcwd()
    os.chroot(root)
    os.chdir(cwd)
    drop_capabilities()


def drop_capabilities() -> None:
    """Empties the effective, permitted and inheritable sets (the ambient set empties with them)."""
    header = (ctypes.c_uint32 * 2)(_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # two __user_cap_data_struct {effective, permitted, inheritable}, all zero
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(_SYS_CAPSET[platform.machine()], header, data) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"capset: {os.strerror(errno)}")
    if _effective_capabilities() or _capabilities("CapPrm") or _capabilities("CapAmb"):
        raise OSError("capabilities remain after capset")


def _effective_capabilities() -> int:
    return _capabilities("CapEff")


def _capabilities(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1], 16)
    return 0
