// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Legacy;

/// <summary>
/// A 16550A UART (vm-superio's model): transmit goes to <c>output</c>, host input queues in a bounded
/// receive buffer, THR-empty and data-ready interrupts go out through <c>raiseIrq</c>.
/// </summary>
public sealed class Serial : IBusDevice
{
    public const int ReceiveLimit = 64;

    private const byte IerRxData = 0x01;
    private const byte IerThrEmpty = 0x02;
    private const byte IirNone = 0x01;
    private const byte IirThrEmpty = 0x02;
    private const byte IirRxData = 0x04;
    private const byte IirFifo = 0xc0;
    private const byte LcrDlab = 0x80;
    private const byte LsrDataReady = 0x01;
    private const byte LsrIdle = 0x60; // THR empty, transmitter empty
    private const byte McrLoop = 0x10;

    private readonly object _lock = new();
    private readonly Action<byte> _output;
    private readonly Action? _raiseIrq;
    private readonly Queue<byte> _rx = new();
    private byte _ier;
    private byte _lcr = 0x03;
    private byte _mcr = 0x08;
    private byte _scratch;
    private byte _dll = 0x0c;
    private byte _dlm;
    private bool _thrEmptyPending;
    private bool _fifo;

    public Serial(Action<byte> output, Action? raiseIrq = null)
    {
        _output = output;
        _raiseIrq = raiseIrq;
    }

    /// <summary>Queues host input for the guest; bytes beyond the FIFO size are dropped (returns how many fit).</summary>
    public int Enqueue(ReadOnlySpan<byte> input)
    {
        int taken;
        lock (_lock)
        {
            taken = 0;
            while (taken < input.Length && _rx.Count < ReceiveLimit)
            {
                _rx.Enqueue(input[taken++]);
            }
        }

        if (taken > 0 && (_ier & IerRxData) != 0)
        {
            _raiseIrq?.Invoke();
        }

        return taken;
    }

    public void Read(ulong offset, Span<byte> data)
    {
        if (data.Length == 0)
        {
            return;
        }

        data.Clear();
        lock (_lock)
        {
            data[0] = offset switch
            {
                0 when (_lcr & LcrDlab) != 0 => _dll,
                0 => _rx.Count > 0 ? _rx.Dequeue() : (byte)0,
                1 when (_lcr & LcrDlab) != 0 => _dlm,
                1 => _ier,
                2 => ReadIir(),
                3 => _lcr,
                4 => _mcr,
                5 => (byte)(LsrIdle | (_rx.Count > 0 ? LsrDataReady : 0)),
                6 => ModemStatus(),
                7 => _scratch,
                _ => 0,
            };
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        if (data.Length == 0)
        {
            return;
        }

        var value = data[0];
        var raise = false;
        lock (_lock)
        {
            switch (offset)
            {
                case 0 when (_lcr & LcrDlab) != 0:
                    _dll = value;
                    break;
                case 0:
                    if ((_mcr & McrLoop) != 0)
                    {
                        if (_rx.Count < ReceiveLimit)
                        {
                            _rx.Enqueue(value);
                        }
                    }
                    else
                    {
                        _output(value);
                    }

                    _thrEmptyPending = true;
                    raise = (_ier & IerThrEmpty) != 0;
                    break;
                case 1 when (_lcr & LcrDlab) != 0:
                    _dlm = value;
                    break;
                case 1:
                    // Enabling THR-empty interrupts with an empty THR raises one at once, as on a 16550.
                    raise = (value & IerThrEmpty) != 0 && (_ier & IerThrEmpty) == 0;
                    _thrEmptyPending |= raise;
                    _ier = (byte)(value & 0x0f);
                    break;
                case 2:
                    _fifo = (value & 1) != 0;
                    break;
                case 3:
                    _lcr = value;
                    break;
                case 4:
                    _mcr = (byte)(value & 0x1f);
                    break;
                case 7:
                    _scratch = value;
                    break;
            }
        }

        if (raise)
        {
            _raiseIrq?.Invoke();
        }
    }

    private byte ReadIir()
    {
        var fifo = _fifo ? IirFifo : (byte)0;
        if ((_ier & IerRxData) != 0 && _rx.Count > 0)
        {
            return (byte)(IirRxData | fifo);
        }

        if ((_ier & IerThrEmpty) != 0 && _thrEmptyPending)
        {
            _thrEmptyPending = false;
            return (byte)(IirThrEmpty | fifo);
        }

        return (byte)(IirNone | fifo);
    }

    private byte ModemStatus()
    {
        if ((_mcr & McrLoop) == 0)
        {
            return 0xb0; // DCD, DSR, CTS
        }

        // Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (Linux's autoconfig checks this).
        return (byte)(((_mcr & 0x01) << 5) | ((_mcr & 0x02) << 3) | ((_mcr & 0x04) << 4) | ((_mcr & 0x08) << 4));
    }
}
