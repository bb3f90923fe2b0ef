// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.VState;

/// <summary>Why a VM stopped running.</summary>
public enum VmExitKind
{
    /// <summary>The guest wrote a code to the debug exit port.</summary>
    ExitPort,

    /// <summary>The guest asked for a reset (i8042 0xFE, or a KVM reset event): the VM ends.</summary>
    Reboot,

    /// <summary>The guest halted with interrupts off (only seen without an in-kernel irqchip).</summary>
    Halt,

    /// <summary>Triple fault or a KVM shutdown event.</summary>
    Shutdown,

    /// <summary>KVM could not run the guest (internal error, failed entry); the message says why.</summary>
    Error,

    /// <summary>The host stopped the VM.</summary>
    Stopped,
}

/// <summary>The end of a VM run.</summary>
public sealed record VmExitResult(VmExitKind Kind, int Code, string Message)
{
    public override string ToString() => $"{Kind} (code {Code}): {Message}";
}
