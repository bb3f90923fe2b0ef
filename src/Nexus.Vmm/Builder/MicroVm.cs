// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Interop;
using Nexus.Vmm.Arch.X64;
using Nexus.Vmm.Devices.Legacy;
using Nexus.Vmm.Security;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Builder;

/// <summary>
/// A running micro-VM: KVM VM, guest memory, vCPU threads, buses and devices. Build one with
/// <see cref="Boot"/> (fresh kernel) or a snapshot restore; it starts paused
/// until <see cref="Start"/>.
/// </summary>
public sealed partial class MicroVm : IDisposable
{
    public const uint SerialGsi = 4;

    private readonly List<IDisposable> _owned = [];
    private readonly long _createdTimestamp;
    private IDisposable? _parkedDevices;
    private long _firstSerialByteTimestamp;
    private bool _started;
    private bool _disposed;

    private MicroVm(VmConfig config, KvmSystem kvm, long createdTimestamp)
    {
        _createdTimestamp = createdTimestamp;
        Config = config;
        Kvm = kvm;
        DeviceEvents = new EventLoop("nexus-vmm-devices", config.Seccomp ? ThreadFilters.DeviceThread : null);
        try
        {
            Vm = new Vm(kvm);
        }
        catch
        {
            DeviceEvents.Dispose();
            throw;
        }
        SoftwareKvm = config.UsesSoftwareKvmProfile(kvm.IsSoftwareOnly);
    }

    public VmConfig Config { get; }

    public KvmSystem Kvm { get; }

    public Vm Vm { get; }

    public GuestMemory Memory { get; } = new();

    public IReadOnlyList<Vcpu> Vcpus => _vcpus;

    public RunControl Control { get; } = new();

    public Bus IoBus { get; } = new();

    public Bus MmioBus { get; } = new();

    public Serial? Console { get; private set; }

    /// <summary>The device thread: virtqueue notifications (ioeventfds) and device sockets are handled here.</summary>
    public EventLoop DeviceEvents { get; }

    /// <summary>True when the guest CPUID hides what software-only KVM cannot emulate.</summary>
    public bool SoftwareKvm { get; }

    /// <summary>The kernel command line given to the guest.</summary>
    public string CommandLine { get; private set; } = string.Empty;

    /// <summary>Time from the start of VM creation to the guest's first serial byte (null before it).</summary>
    public TimeSpan? TimeToFirstSerialByte =>
        _firstSerialByteTimestamp == 0 ? null : Stopwatch.GetElapsedTime(_createdTimestamp, _firstSerialByteTimestamp);

    /// <summary>Time from the start of VM creation to the first exit of vCPU 0, i.e. the guest ran.</summary>
    public TimeSpan? TimeToFirstExit => _vcpus.Count > 0 && _vcpus[0].FirstExitTimestamp != 0
        ? Stopwatch.GetElapsedTime(_createdTimestamp, _vcpus[0].FirstExitTimestamp)
        : null;

    private readonly List<Vcpu> _vcpus = [];

    /// <summary>
    /// Creates a VM and loads the kernel for a fresh boot (Firecracker's build_microvm_for_boot).
    /// <paramref name="startTimestamp"/> (Stopwatch) is where boot timings count from; default: now.
    /// </summary>
    public static MicroVm Boot(VmConfig config, KvmSystem? kvm = null, long startTimestamp = 0)
    {
        if (startTimestamp == 0)
        {
            startTimestamp = Stopwatch.GetTimestamp();
        }

        Validate(config);
        var ownsKvm = kvm is null;
        kvm ??= new KvmSystem();
        var vm = new MicroVm(config, kvm, startTimestamp);
        if (ownsKvm)
        {
            vm._owned.Add(kvm);
        }

        try
        {
            var memorySize = config.MemoryMiB << 20;
            vm.CreateMemory(memorySize, config.SharedMemory ? "nexus-guest-ram" : null);
            vm.CreateMachine();
            vm.AttachDevices(nexusMemfd: null);
            vm.CommandLine = VirtioLayout.CommandLine(config, vm.SoftwareKvm);

            var image = File.ReadAllBytes(config.KernelPath);
            var entry = ElfLoader.Load(vm.Memory, image, config.KernelPath);
            MpTable.Write(vm.Memory, config.Vcpus);
            BootParams.Write(vm.Memory, memorySize, vm.CommandLine);
            if (config.Protocol == BootProtocol.Pvh)
            {
                entry = ElfLoader.FindPvhEntry(image)
                    ?? throw new InvalidDataException($"{config.KernelPath}: no XEN_ELFNOTE_PHYS32_ENTRY note (build the kernel with CONFIG_PVH=y, or boot it with the 64-bit protocol)");

                // The PVH memory map takes the zero page's place at 0x7000.
                Pvh.WriteStartInfo(vm.Memory, memorySize);
            }
            else
            {
                Regs.WriteBootTables(vm.Memory);
            }

            foreach (var vcpu in vm._vcpus)
            {
                vm.ConfigureVcpuForBoot(vcpu, entry);
            }

            return vm;
        }
        catch
        {
            vm.Dispose();
            throw;
        }
    }

    /// <summary>Starts the vCPU threads.</summary>
    public void Start()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_started)
        {
            throw new InvalidOperationException("the VM is already started");
        }

        _started = true;
        foreach (var vcpu in _vcpus)
        {
            vcpu.Start(IoBus, MmioBus, Memory, Control, Config.Seccomp ? ThreadFilters.Vcpu : null);
        }
    }

    /// <summary>Waits for the VM to stop, or stops it after <paramref name="timeout"/> and says so.</summary>
    public VmExitResult WaitForExit(TimeSpan timeout)
    {
        if (!Control.Exited.Wait(timeout))
        {
            Control.RequestStop(new VmExitResult(VmExitKind.Stopped, -1, $"host stopped the VM after {timeout.TotalSeconds:0.#} s"));
        }

        JoinVcpus();
        return Control.Exited.Result;
    }

    /// <summary>Parks the vCPUs, then the device thread, so nothing changes guest memory or device state.</summary>
    public void Pause()
    {
        Control.Pause();
        _parkedDevices ??= DeviceEvents.Park();
    }

    public void Resume()
    {
        _parkedDevices?.Dispose();
        _parkedDevices = null;
        Control.Resume();
    }

    public void Stop(string why = "host stopped the VM") =>
        Control.RequestStop(new VmExitResult(VmExitKind.Stopped, 0, why));

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        Stop("VM disposed");
        JoinVcpus();

        // Devices are disposed with the device thread parked, so none of their handlers runs meanwhile.
        _parkedDevices ??= DeviceEvents.Park();
        foreach (var vcpu in _vcpus)
        {
            vcpu.Dispose();
        }

        Vm.Dispose();
        for (var i = _owned.Count - 1; i >= 0; i--)
        {
            _owned[i].Dispose();
        }

        DeviceEvents.Dispose();
        _parkedDevices.Dispose();

        Memory.Dispose();
    }

    private static void Validate(VmConfig config)
    {
        if (!File.Exists(config.KernelPath))
        {
            throw new FileNotFoundException($"kernel image not found: {config.KernelPath}", config.KernelPath);
        }

        if (config.MemoryMiB is < 16 or > 65536)
        {
            throw new ArgumentOutOfRangeException(nameof(config), $"memory {config.MemoryMiB} MiB: must be 16..65536 MiB");
        }

        if (config.Vcpus is < 1 or > 32)
        {
            throw new ArgumentOutOfRangeException(nameof(config), $"vcpus {config.Vcpus}: must be 1..32");
        }

        if (config.NexusRegionSize % 4096 != 0 || config.NexusRegionSize > Layout.NexusRegionMax)
        {
            throw new ArgumentOutOfRangeException(nameof(config), $"Nexus region size {config.NexusRegionSize}: must be a multiple of 4096 up to {Layout.NexusRegionMax}");
        }

        if (config.NexusChannel is not null && config.NexusRegionSize == 0)
        {
            throw new ArgumentException("a Nexus channel from outside needs NexusRegionSize (its region's size)", nameof(config));
        }

        if (config.Drives.Count > 16)
        {
            throw new ArgumentOutOfRangeException(nameof(config), $"{config.Drives.Count} drives: at most 16");
        }

        // Every device has a slot and an interrupt of its own.
        _ = VirtioLayout.Slots(config);
    }

    private void CreateMemory(ulong size, string? memfdName)
    {
        foreach (var (address, length) in Layout.RamRegions(size))
        {
            var region = memfdName is null
                ? GuestMemory.Anonymous(address, length)
                : GuestMemory.SharedMemfd(memfdName, address, length);
            Memory.Add(region);
            Vm.AddMemorySlot(region);
        }
    }

    internal void AddRegion(GuestRegion region)
    {
        Memory.Add(region);
        Vm.AddMemorySlot(region);
    }

    /// <summary>TSS, irqchip, PIT, then the vCPUs: KVM requires the irqchip before any vCPU exists.</summary>
    private void CreateMachine()
    {
        Vm.SetupInterruptController(Layout.KvmTss);
        for (var i = 0; i < Config.Vcpus; i++)
        {
            _vcpus.Add(new Vcpu(Vm, i));
        }
    }

    private void AttachLegacyDevices()
    {
        var serialIrq = EventFd.Create();
        _owned.Add(serialIrq);
        Vm.RegisterIrqfd(serialIrq, SerialGsi);
        var output = Config.ConsoleOutput;
        Console = new Serial(
            b =>
            {
                if (_firstSerialByteTimestamp == 0)
                {
                    _firstSerialByteTimestamp = Stopwatch.GetTimestamp();
                }

                output?.Invoke(b);
            },
            () => serialIrq.Signal());
        IoBus.Insert(0x3f8, 8, Console);
        IoBus.Insert(0x60, 5, new I8042(Control));
        IoBus.Insert(Layout.ExitPort, 1, new ExitPort(Control));
    }

    private void ConfigureVcpuForBoot(Vcpu vcpu, ulong entry)
    {
        vcpu.SetCpuid(Cpuid.Normalize(Kvm.SupportedCpuid(), vcpu.Index, Config.Vcpus, SoftwareKvm));
        vcpu.SetMsrs(Msr.BootEntries());
        var pvh = Config.Protocol == BootProtocol.Pvh;
        vcpu.SetRegs(pvh ? Pvh.EntryRegs((uint)entry) : Regs.EntryRegs(entry));
        vcpu.SetFpu(Regs.BootFpu());
        vcpu.SetSregs(pvh ? Pvh.EntrySregs(vcpu.GetSregs()) : Regs.LongModeSregs(vcpu.GetSregs()));
        vcpu.SetLapic(Regs.SetLint(vcpu.GetLapic()));
    }

    private void JoinVcpus()
    {
        foreach (var vcpu in _vcpus)
        {
            vcpu.Join();
        }
    }
}
