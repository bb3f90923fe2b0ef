// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Vmm.VState;

/// <summary>Typed wrappers that pass a pinned struct or buffer to a KVM ioctl.</summary>
internal static unsafe class KvmCall
{
    public static int Value(SafeFd fd, uint request, nint arg, string name) => Ioctl.Call(fd, request, arg, name);

    public static int Ref<T>(SafeFd fd, uint request, ref T value, string name)
        where T : unmanaged
    {
        // SAFETY: value is pinned for the call; the request's size field equals sizeof(T), which
        // KvmAbiTests checks against the kernel headers, so the kernel touches only these bytes.
        fixed (T* p = &value)
        {
            return Ioctl.Call(fd, request, (nint)p, name);
        }
    }

    public static int Buffer(SafeFd fd, uint request, Span<byte> buffer, string name)
    {
        // SAFETY: the buffer is pinned for the call and the caller sized it for the variable-length
        // structure (header + count entries) the request reads or writes.
        fixed (byte* p = buffer)
        {
            return Ioctl.Call(fd, request, (nint)p, name);
        }
    }
}
