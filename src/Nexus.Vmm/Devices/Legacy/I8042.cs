// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Legacy;

/// <summary>
/// The i8042 keyboard controller, just enough for Linux: status and control bytes, self-test, and
/// the CPU reset command (0xFE on port 0x64), which ends the VM as a reboot. Mapped at port 0x60, length 5.
/// </summary>
public sealed class I8042 : IBusDevice
{
    private const byte StatusOutputFull = 0x01;
    private const byte StatusKbdEnabled = 0x10;
    private const byte CmdReadControl = 0x20;
    private const byte CmdWriteControl = 0x60;
    private const byte CmdSelfTest = 0xaa;
    private const byte CmdReadOutPort = 0xd0;
    private const byte CmdWriteOutPort = 0xd1;
    private const byte CmdResetCpu = 0xfe;

    private readonly object _lock = new();
    private readonly RunControl _control;
    private byte _controlByte = 0x05; // POST passed, keyboard interrupt enabled
    private byte _outPort = 0x01;
    private byte _pendingCommand;
    private byte? _data;

    public I8042(RunControl control) => _control = control;

    public void Read(ulong offset, Span<byte> data)
    {
        if (data.Length == 0)
        {
            return;
        }

        data.Clear();
        lock (_lock)
        {
            if (offset == 0)
            {
                data[0] = _data ?? 0;
                _data = null;
            }
            else if (offset == 4)
            {
                data[0] = (byte)(StatusKbdEnabled | (_data.HasValue ? StatusOutputFull : 0));
            }
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            return;
        }

        var value = data[0];
        lock (_lock)
        {
            if (offset == 4)
            {
                _pendingCommand = 0;
                switch (value)
                {
                    case CmdResetCpu:
                        _control.RequestStop(new VmExitResult(VmExitKind.Reboot, 0, "guest reset the CPU through the i8042 (reboot)"));
                        break;
                    case CmdReadControl:
                        _data = _controlByte;
                        break;
                    case CmdSelfTest:
                        _data = 0x55;
                        break;
                    case CmdReadOutPort:
                        _data = _outPort;
                        break;
                    case CmdWriteControl or CmdWriteOutPort:
                        _pendingCommand = value;
                        break;
                }
            }
            else if (offset == 0)
            {
                switch (_pendingCommand)
                {
                    case CmdWriteControl:
                        _controlByte = value;
                        break;
                    case CmdWriteOutPort:
                        _outPort = value;
                        break;
                    default:
                        _data = 0xfa; // keyboard ACK
                        break;
                }

                _pendingCommand = 0;
            }
        }
    }
}
