// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Legacy;

/// <summary>
/// A debug exit port (like QEMU's isa-debug-exit): a guest write ends the VM with the value as its
/// code. Test guests need it because, with the in-kernel irqchip, <c>hlt</c> never exits.
/// </summary>
public sealed class ExitPort : IBusDevice
{
    private readonly RunControl _control;

    public ExitPort(RunControl control) => _control = control;

    public void Read(ulong offset, Span<byte> data) => data.Clear();

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        Span<byte> value = stackalloc byte[4];
        value.Clear();
        data[..Math.Min(data.Length, 4)].CopyTo(value);
        var code = BinaryPrimitives.ReadInt32LittleEndian(value);
        _control.RequestStop(new VmExitResult(VmExitKind.ExitPort, code, $"guest wrote {code} to the exit port"));
    }
}
