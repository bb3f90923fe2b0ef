// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Sandbox.Microvm;

/// <summary>Settings of the <c>microvm</c> driver.</summary>
public sealed record MicrovmDriverOptions
{
    /// <summary>
    /// The guest every microvm function boots: an uncompressed ELF kernel (or a freestanding test guest such as
    /// guest/test/runtime.c). Null: the driver refuses to start instances and says how to configure one.
    /// </summary>
    public string? GuestKernel { get; init; }

    /// <summary>
    /// The VMM command, executable first (e.g. the NativeAOT <c>nexus-vmm</c>, or <c>dotnet nexus-vmm.dll</c>); empty:
    /// found in this checkout (<see cref="VmmExecutable.Locate"/>).
    /// </summary>
    public IReadOnlyList<string> VmmCommand { get; init; } = [];

    /// <summary>VMM state of running instances (pid files, per instance) and ready snapshots.</summary>
    public string RunDirectory { get; init; } = "/run/nexus/microvm";

    /// <summary>Only instances and snapshots whose names start with this are this node's (leftover cleanup).</summary>
    public string InstancePrefix { get; init; } = "nx";

    /// <summary>
    /// Boot once per template key (function revision), snapshot at the guest's ready ring, restore every cold start
    /// from it. False: every instance boots its guest.
    /// </summary>
    public bool Snapshots { get; init; } = true;

    /// <summary>Longest a guest may take from boot to its ready ring when a snapshot is made.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary>Where driver events go (snapshots made or failed).</summary>
    public Action<string>? Log { get; init; }
}
