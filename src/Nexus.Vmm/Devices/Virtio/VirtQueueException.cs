// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.Devices.Virtio;

/// <summary>What a guest got wrong in a virtqueue.</summary>
public enum VirtQueueError
{
    InvalidAvailIndex,
    DescriptorIndexOutOfRange,
    ChainTooLong,
    BufferOutOfBounds,
    InvalidIndirectTable,
    NestedIndirect,
    ReadableAfterWritable,
    ChainTooLarge,
}

/// <summary>A guest-provided virtqueue structure that fails validation; the message names the guest's value.</summary>
public sealed class VirtQueueException : Exception
{
    public VirtQueueException(VirtQueueError kind, string message)
        : base(message) => Kind = kind;

    public VirtQueueException()
    {
    }

    public VirtQueueException(string message)
        : base(message)
    {
    }

    public VirtQueueException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public VirtQueueError Kind { get; }
}
