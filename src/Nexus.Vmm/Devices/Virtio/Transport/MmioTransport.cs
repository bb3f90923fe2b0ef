// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Devices.Virtio.Transport;

/// <summary>
/// The virtio-mmio transport, version 2 (virtio 1.2 §4.2.2), one 4 KiB slot per device. The register
/// state machine follows Firecracker's mmio.rs: features are accepted only between DRIVER and
/// FEATURES_OK, queue settings only between FEATURES_OK and DRIVER_OK, and a device whose guest
/// broke a queue is marked NEEDS_RESET instead of affecting anything else.
/// </summary>
public sealed class MmioTransport : IBusDevice
{
    public const uint StatusAcknowledge = 1;
    public const uint StatusDriver = 2;
    public const uint StatusDriverOk = 4;
    public const uint StatusFeaturesOk = 8;
    public const uint StatusNeedsReset = 64;
    public const uint StatusFailed = 128;

    /// <summary>The QueueNotify register: the driver writes a queue index here.</summary>
    public const ulong QueueNotifyOffset = 0x50;

    private const uint Magic = 0x7472_6976;

    private readonly object _lock = new();
    private readonly IVirtioDevice _device;
    private readonly GuestMemory _memory;
    private uint _featuresSelect;
    private uint _ackedFeaturesSelect;
    private uint _queueSelect;
    private uint _configGeneration;

    public MmioTransport(IVirtioDevice device, GuestMemory memory, VirtioInterrupt interrupt)
    {
        _device = device;
        _memory = memory;
        Interrupt = interrupt;
    }

    public IVirtioDevice Device => _device;

    public VirtioInterrupt Interrupt { get; }

    public uint DeviceStatus { get; private set; }

    public ulong AckedFeatures { get; private set; }

    public bool Activated { get; private set; }

    /// <summary>Queue notifications that arrived as MMIO exits and ran on a vCPU thread.</summary>
    public long VcpuNotifies { get; private set; }

    /// <summary>Queue notifications that KVM signalled through an ioeventfd and that ran on the device thread.</summary>
    public long DeviceThreadNotifies { get; private set; }

    /// <summary>Why the device stopped (a hostile or buggy driver), or null.</summary>
    public string? LastError { get; private set; }

    public void Read(ulong offset, Span<byte> data)
    {
        data.Clear();
        lock (_lock)
        {
            if (offset >= 0x100)
            {
                _device.ReadConfig(offset - 0x100, data);
                return;
            }

            if (data.Length != 4 || offset % 4 != 0)
            {
                return;
            }

            var queue = SelectedQueue;
            uint value = offset switch
            {
                0x00 => Magic,
                0x04 => 2,
                0x08 => _device.DeviceType,
                0x0c => 0,
                0x10 => _featuresSelect switch
                {
                    0 => (uint)_device.AvailableFeatures,
                    1 => (uint)(_device.AvailableFeatures >> 32),
                    _ => 0,
                },
                0x34 => queue?.MaxSize ?? 0u,
                0x44 => queue is { Ready: true } ? 1u : 0u,
                0x60 => Interrupt.Status,
                0x70 => DeviceStatus,
                0xfc => _configGeneration,
                _ => 0,
            };
            BinaryPrimitives.WriteUInt32LittleEndian(data, value);
        }
    }

    public void Write(ulong offset, ReadOnlySpan<byte> data)
    {
        int? notify = null;
        lock (_lock)
        {
            if (offset >= 0x100)
            {
                if ((DeviceStatus & StatusDriver) != 0 && (DeviceStatus & (StatusFailed | StatusNeedsReset)) == 0)
                {
                    _device.WriteConfig(offset - 0x100, data);
                    _configGeneration++;
                }

                return;
            }

            if (data.Length != 4 || offset % 4 != 0)
            {
                return;
            }

            var value = BinaryPrimitives.ReadUInt32LittleEndian(data);
            var queue = SelectedQueue;
            var queueSetup = (DeviceStatus & (StatusFeaturesOk | StatusDriverOk | StatusFailed)) == StatusFeaturesOk;
            switch (offset)
            {
                case 0x14:
                    _featuresSelect = value;
                    break;
                case 0x20 when (DeviceStatus & (StatusDriver | StatusFeaturesOk | StatusFailed)) == StatusDriver:
                    if (_ackedFeaturesSelect < 2)
                    {
                        var shift = 32 * (int)_ackedFeaturesSelect;
                        var mask = 0xffff_ffffUL << shift;
                        AckedFeatures = (AckedFeatures & ~mask) | (((ulong)value << shift) & _device.AvailableFeatures);
                    }

                    break;
                case 0x24:
                    _ackedFeaturesSelect = value;
                    break;
                case 0x30:
                    _queueSelect = value;
                    break;
                case 0x38 when queueSetup && queue is not null:
                    queue.Size = (ushort)Math.Min(value, ushort.MaxValue);
                    break;
                case 0x44 when queueSetup && queue is not null:
                    queue.Ready = value == 1;
                    break;
                case QueueNotifyOffset when Activated && (DeviceStatus & StatusNeedsReset) == 0:
                    notify = (int)value;
                    break;
                case 0x64 when (DeviceStatus & StatusDriverOk) != 0:
                    Interrupt.Acknowledge(value);
                    break;
                case 0x70:
                    SetStatus(value);
                    break;
                case 0x80 when queueSetup && queue is not null:
                    queue.DescTable = Low(queue.DescTable, value);
                    break;
                case 0x84 when queueSetup && queue is not null:
                    queue.DescTable = High(queue.DescTable, value);
                    break;
                case 0x90 when queueSetup && queue is not null:
                    queue.AvailRing = Low(queue.AvailRing, value);
                    break;
                case 0x94 when queueSetup && queue is not null:
                    queue.AvailRing = High(queue.AvailRing, value);
                    break;
                case 0xa0 when queueSetup && queue is not null:
                    queue.UsedRing = Low(queue.UsedRing, value);
                    break;
                case 0xa4 when queueSetup && queue is not null:
                    queue.UsedRing = High(queue.UsedRing, value);
                    break;
            }

            if (notify is { } index)
            {
                // KVM caught no ioeventfd for this write (none registered, or an index no queue has).
                VcpuNotifies++;
                ProcessQueueLocked(index);
            }
        }
    }

    /// <summary>
    /// The driver notified queue <paramref name="index"/> (a QueueNotify write that KVM turned into an ioeventfd
    /// signal): processes it on the calling thread, the VM's device thread. Ignored unless the device is active.
    /// </summary>
    public void Notify(int index)
    {
        lock (_lock)
        {
            if (Activated && (DeviceStatus & StatusNeedsReset) == 0)
            {
                DeviceThreadNotifies++;
                ProcessQueueLocked(index);
            }
        }
    }

    /// <summary>
    /// Runs device work that did not come from a queue notification (e.g. host socket data for vsock) under the
    /// transport's lock, with the same containment of guest faults; skipped (false) unless the device is active.
    /// </summary>
    public bool RunDeviceWork(Action work)
    {
        lock (_lock)
        {
            if (!Activated || (DeviceStatus & StatusNeedsReset) != 0)
            {
                return false;
            }

            Contain(work);
            return true;
        }
    }

    private void ProcessQueueLocked(int index)
    {
        if (index >= 0 && index < _device.Queues.Count)
        {
            Contain(() => _device.ProcessQueue(index));
        }
    }

    private void Contain(Action work)
    {
        try
        {
            work();
        }
        catch (Exception e) when (e is VirtQueueException or GuestMemoryException)
        {
            // The guest broke its own queue: stop this device and tell the driver, nothing else.
            LastError = e.Message;
            DeviceStatus |= StatusNeedsReset;
            Interrupt.Signal(VirtioInterrupt.ConfigChange);
        }
    }

    /// <summary>Restores transport state from a snapshot (the device's queues are restored separately).</summary>
    internal void Restore(uint status, ulong ackedFeatures, uint interruptStatus)
    {
        DeviceStatus = status;
        AckedFeatures = ackedFeatures;
        Interrupt.Status = interruptStatus;
        if ((status & StatusDriverOk) != 0 && (status & StatusNeedsReset) == 0)
        {
            _device.Activate(_memory, Interrupt, ackedFeatures);
            Activated = true;
        }
    }

    private Queue? SelectedQueue => _queueSelect < _device.Queues.Count ? _device.Queues[(int)_queueSelect] : null;

    private static ulong Low(ulong current, uint value) => (current & 0xffff_ffff_0000_0000) | value;

    private static ulong High(ulong current, uint value) => (current & 0xffff_ffff) | ((ulong)value << 32);

    private void SetStatus(uint value)
    {
        if (value == 0)
        {
            _device.Reset();
            foreach (var q in _device.Queues)
            {
                q.Reset();
            }

            DeviceStatus = 0;
            AckedFeatures = 0;
            Interrupt.Status = 0;
            Activated = false;
            LastError = null;
            return;
        }

        // Bits only accumulate, one step at a time (ACK, DRIVER, FEATURES_OK, DRIVER_OK); FAILED at any time.
        var added = value & ~DeviceStatus;
        if ((value & DeviceStatus) != DeviceStatus)
        {
            return;
        }

        if ((added & StatusFailed) != 0)
        {
            DeviceStatus |= StatusFailed;
            return;
        }

        var expected = DeviceStatus switch
        {
            0 => StatusAcknowledge,
            StatusAcknowledge => StatusDriver,
            StatusAcknowledge | StatusDriver => StatusFeaturesOk,
            StatusAcknowledge | StatusDriver | StatusFeaturesOk => StatusDriverOk,
            _ => 0u,
        };
        if (added != expected)
        {
            return;
        }

        if (added == StatusFeaturesOk && (AckedFeatures & (1UL << VirtioIds.FeatureVersion1)) == 0)
        {
            return; // a version 2 device requires VIRTIO_F_VERSION_1: FEATURES_OK stays clear
        }

        DeviceStatus = value;
        if (added == StatusDriverOk)
        {
            if (_device.Queues.Where(q => q.Ready).All(q => q.IsValid(_memory)))
            {
                _device.Activate(_memory, Interrupt, AckedFeatures);
                Activated = true;
            }
            else
            {
                LastError = "a ready queue lies outside guest memory or has an invalid size";
                DeviceStatus |= StatusNeedsReset;
            }
        }
    }
}
