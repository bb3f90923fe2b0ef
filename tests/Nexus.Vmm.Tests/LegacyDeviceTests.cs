// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Vmm.Devices.Legacy;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>The 16550 and i8042 models, driven through their port registers.</summary>
public sealed class LegacyDeviceTests
{
    [Fact]
    public void SerialTransmitsRaisesThreInterruptAndReceivesInput()
    {
        var sent = new List<byte>();
        var irqs = 0;
        var uart = new Serial(sent.Add, () => irqs++);
        Write(uart, 1, 0x03); // IER: RX data + THR empty
        Assert.Equal(1, irqs); // enabling THRE with an empty THR interrupts at once
        Assert.Equal(0x02, Read(uart, 2) & 0x0f); // IIR: THR empty
        Assert.Equal(0x01, Read(uart, 2) & 0x0f); // read clears it
        Write(uart, 0, (byte)'x');
        Assert.Equal([(byte)'x'], sent);
        Assert.Equal(2, irqs);

        Assert.Equal(2, uart.Enqueue("ab"u8));
        Assert.Equal(0x04, Read(uart, 2) & 0x0f); // IIR: RX data
        Assert.Equal(0x61, Read(uart, 5)); // LSR: data ready + idle transmitter
        Assert.Equal((byte)'a', Read(uart, 0));
        Assert.Equal((byte)'b', Read(uart, 0));
        Assert.Equal(0x60, Read(uart, 5));
    }

    [Fact]
    public void SerialInputIsBoundedAndLoopbackWorksAsLinuxProbesIt()
    {
        var uart = new Serial(_ => { });
        Assert.Equal(Serial.ReceiveLimit, uart.Enqueue(new byte[1000]));
        Assert.Equal(0, uart.Enqueue([1]));

        var loop = new Serial(_ => Assert.Fail("loopback output must not leave the UART"));
        Write(loop, 4, 0x10 | 0x0a); // loopback, RTS, OUT2
        Assert.Equal(0x90, Read(loop, 6) & 0xf0); // CTS (from RTS) + DCD (from OUT2)
        Write(loop, 0, 0x5a);
        Assert.Equal(0x5a, Read(loop, 0));
        Write(loop, 7, 0xa5);
        Assert.Equal(0xa5, Read(loop, 7)); // scratch register
    }

    [Fact]
    public async Task I8042ResetCommandEndsTheVmAsReboot()
    {
        var control = new RunControl();
        var kbd = new I8042(control);
        Write(kbd, 4, 0xaa);
        Assert.Equal(0x11, Read(kbd, 4)); // output full + keyboard enabled
        Assert.Equal(0x55, Read(kbd, 0)); // self-test passed
        Assert.False(control.IsStopping);
        Write(kbd, 4, 0xfe);
        Assert.True(control.IsStopping);
        Assert.Equal(VmExitKind.Reboot, (await control.Exited).Kind);
    }

    private static void Write(IBusDevice device, ulong offset, byte value) => device.Write(offset, [value]);

    private static byte Read(IBusDevice device, ulong offset)
    {
        var b = new byte[1];
        device.Read(offset, b);
        return b[0];
    }
}
