// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Nexus.Interop;

namespace Nexus.Channel;

/// <summary>
/// The doorbell the sandbox rings and the host waits on: an eventfd for a process sandbox, a KVM ioeventfd (a guest
/// write to an MMIO address) for a micro-VM. The host watches <see cref="PollHandle"/> with epoll.
/// </summary>
public interface IHostDoorbell : IDisposable
{
    /// <summary>Readable when the sandbox has rung.</summary>
    SafeHandle PollHandle { get; }

    /// <summary>Consumes the rings seen so far (never blocks).</summary>
    void Acknowledge();
}

/// <summary>The doorbell the host rings: an eventfd for a process sandbox, a KVM irqfd (an interrupt) for a micro-VM.</summary>
public interface ISandboxDoorbell : IDisposable
{
    void Ring();
}

/// <summary>An eventfd as either doorbell: a write adds to its counter, a read returns and resets it, so many rings cost one wake.</summary>
public sealed class EventFdDoorbell(EventFd eventFd) : IHostDoorbell, ISandboxDoorbell
{
    public EventFd EventFd { get; } = eventFd;

    public SafeHandle PollHandle => EventFd.Handle;

    public void Acknowledge() => EventFd.TryRead(out _);

    public void Ring() => EventFd.Signal();

    public void Dispose() => EventFd.Dispose();
}
