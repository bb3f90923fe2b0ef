// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using Nexus.Interop;
using Nexus.Vmm.Arch.X64;

namespace Nexus.Vmm.VState;

public sealed partial class Vcpu
{
    private const int EINTR = 4;
    private const int EAGAIN = 11;

    private readonly object _threadLock = new();
    private Thread? _thread;
    private nuint _pthread;
    private bool _threadAlive;

    /// <summary>How many times KVM_RUN returned to this process (exits of any kind).</summary>
    public long ExitCount { get; private set; }

    /// <summary>The exits by reason (I/O by port, MMIO by page); read once the VM stopped.</summary>
    public ExitCounts Exits { get; } = new();

    /// <summary>Stopwatch timestamp of the first exit (0 before it): the guest has run by then.</summary>
    public long FirstExitTimestamp { get; private set; }

    /// <summary>The vCPU thread's kernel thread id (0 before it started).</summary>
    public int ThreadId { get; private set; }

    /// <summary>
    /// Starts this vCPU's thread: load <paramref name="seccomp"/> on it (when given), then KVM_RUN, dispatch the exit,
    /// repeat until the VM stops.
    /// </summary>
    public void Start(Bus io, Bus mmio, GuestMemory memory, RunControl control, IReadOnlyList<SeccompDenial>? seccomp = null)
    {
        control.Register(this);
        _thread = new Thread(() => RunLoop(io, mmio, memory, control, seccomp))
        {
            Name = $"vcpu{Index}",
            IsBackground = true,
        };
        _thread.Start();
    }

    /// <summary>Waits for the vCPU thread to end (after the VM stopped).</summary>
    public void Join() => _thread?.Join();

    /// <summary>Forces the vCPU out of KVM_RUN (a blocked signal opened only inside KVM_RUN).</summary>
    internal void Kick()
    {
        lock (_threadLock)
        {
            if (_threadAlive)
            {
                ThreadSignal.Kick(_pthread);
            }
        }
    }

    private unsafe void RunLoop(Bus io, Bus mmio, GuestMemory memory, RunControl control, IReadOnlyList<SeccompDenial>? seccomp)
    {
        try
        {
            ThreadId = Seccomp.CurrentThreadId();
            if (seccomp is not null)
            {
                // Before the first guest instruction: exits are decoded only under the filter.
                Seccomp.ApplyToCurrentThread(seccomp);
            }

            var kvmMask = ThreadSignal.BlockKickSignal();
            var maskBuffer = new byte[12];
            BinaryPrimitives.WriteUInt32LittleEndian(maskBuffer, 8);
            BinaryPrimitives.WriteUInt64LittleEndian(maskBuffer.AsSpan(4), kvmMask);
            KvmCall.Buffer(Fd, KvmIoctl.KVM_SET_SIGNAL_MASK, maskBuffer, "KVM_SET_SIGNAL_MASK");
            lock (_threadLock)
            {
                _pthread = ThreadSignal.CurrentThread();
                _threadAlive = true;
            }

            var added = false;
            _run.DangerousAddRef(ref added);
            try
            {
                // SAFETY: the kvm_run mapping is held by DangerousAddRef for the whole loop and is
                // VcpuMmapSize (>= KvmRunLayout.Size) bytes long; offsets come from KvmRunLayout.
                var run = (byte*)_run.Address;
                while (!control.IsStopping)
                {
                    if (control.PauseRequested)
                    {
                        CompletePendingExit(run);
                        control.Park();
                        continue;
                    }

                    var rc = Ioctl.TryCall(Fd, KvmIoctl.KVM_RUN, 0);
                    if (rc == -EINTR || rc == -EAGAIN)
                    {
                        ThreadSignal.DrainKicks();
                        Exits.AddKick();
                        continue;
                    }

                    if (rc < 0)
                    {
                        throw new UnixException("KVM_RUN", -rc);
                    }

                    if (ExitCount++ == 0)
                    {
                        FirstExitTimestamp = System.Diagnostics.Stopwatch.GetTimestamp();
                    }

                    HandleExit(run, io, mmio, memory, control);
                }
            }
            finally
            {
                if (added)
                {
                    _run.DangerousRelease();
                }
            }
        }
        catch (Exception e)
        {
            control.RequestStop(new VmExitResult(VmExitKind.Error, -1, $"vcpu{Index}: {e.Message}"));
        }
        finally
        {
            lock (_threadLock)
            {
                _threadAlive = false;
            }

            control.Unregister();
        }
    }

    /// <summary>
    /// An I/O exit completes (RIP advances, IN data lands in the register) only on the next KVM_RUN;
    /// one with immediate_exit set does that and returns EINTR at once, so the saved state is final.
    /// </summary>
    private unsafe void CompletePendingExit(byte* run)
    {
        // SAFETY: run points at the live kvm_run page (see RunLoop); immediate_exit is one byte at offset 1.
        run[KvmRunLayout.ImmediateExit] = 1;
        var rc = Ioctl.TryCall(Fd, KvmIoctl.KVM_RUN, 0);
        run[KvmRunLayout.ImmediateExit] = 0;
        ThreadSignal.DrainKicks();
        if (rc < 0 && rc != -EINTR && rc != -EAGAIN)
        {
            throw new UnixException("KVM_RUN(immediate_exit)", -rc);
        }
    }

    private unsafe void HandleExit(byte* run, Bus io, Bus mmio, GuestMemory memory, RunControl control)
    {
        // SAFETY (whole method): run points at the live kvm_run page; each read uses a KvmRunLayout
        // offset checked against linux/kvm.h, and the PIO data offset is bounds-checked before use.
        var reason = *(uint*)(run + KvmRunLayout.ExitReason);
        Exits.Add(reason);
        switch (reason)
        {
            case KvmExit.KVM_EXIT_IO:
                {
                    var output = run[KvmRunLayout.IoDirection] == KvmExit.KVM_EXIT_IO_OUT;
                    int size = run[KvmRunLayout.IoSize];
                    var port = *(ushort*)(run + KvmRunLayout.IoPort);
                    var count = *(uint*)(run + KvmRunLayout.IoCount);
                    var offset = *(ulong*)(run + KvmRunLayout.IoDataOffset);
                    Exits.AddIo(port);
                    if (size is not (1 or 2 or 4) || offset + ((ulong)size * count) > (ulong)_run.Length)
                    {
                        throw new InvalidOperationException($"KVM reported an I/O exit with size {size} x {count} at offset {offset}");
                    }

                    for (var i = 0u; i < count; i++)
                    {
                        var data = new Span<byte>(run + offset + (i * (uint)size), size);
                        if (output)
                        {
                            io.Write(port, data);
                        }
                        else
                        {
                            io.Read(port, data);
                        }
                    }

                    break;
                }

            case KvmExit.KVM_EXIT_MMIO:
                {
                    var address = *(ulong*)(run + KvmRunLayout.MmioPhysAddr);
                    var length = *(uint*)(run + KvmRunLayout.MmioLen);
                    Exits.AddMmio(address);
                    var data = new Span<byte>(run + KvmRunLayout.MmioData, (int)Math.Min(length, 8u));
                    if (run[KvmRunLayout.MmioIsWrite] != 0)
                    {
                        mmio.Write(address, data);
                    }
                    else
                    {
                        mmio.Read(address, data);
                    }

                    break;
                }

            case KvmExit.KVM_EXIT_HLT:
                control.RequestStop(new VmExitResult(VmExitKind.Halt, 0, $"vcpu{Index} halted"));
                break;

            case KvmExit.KVM_EXIT_SHUTDOWN:
                control.RequestStop(new VmExitResult(VmExitKind.Shutdown, 0, $"vcpu{Index}: guest shutdown (triple fault) {DescribeRip(memory)}"));
                break;

            case KvmExit.KVM_EXIT_SYSTEM_EVENT:
                {
                    var type = *(uint*)(run + KvmRunLayout.SystemEventType);
                    control.RequestStop(type == 2
                        ? new VmExitResult(VmExitKind.Reboot, 0, $"vcpu{Index}: guest reset")
                        : new VmExitResult(VmExitKind.Shutdown, (int)type, $"vcpu{Index}: guest system event {type} (1 shutdown, 3 crash)"));
                    break;
                }

            case KvmExit.KVM_EXIT_INTERNAL_ERROR:
                {
                    var sub = *(uint*)(run + KvmRunLayout.InternalSuberror);
                    var ndata = Math.Min(*(uint*)(run + KvmRunLayout.InternalNdata), 16u);
                    var extra = string.Join(' ', Enumerable.Range(0, (int)ndata).Select(i => $"0x{*(ulong*)(run + KvmRunLayout.InternalData + (i * 8)):x}"));
                    var what = sub switch
                    {
                        1 => "emulation failure: the instruction at RIP is not handled by KVM's emulator",
                        2 => "exception while delivering an exception",
                        3 => "failed to deliver an event",
                        4 => "unexpected exit reason",
                        _ => $"suberror {sub}",
                    };
                    control.RequestStop(new VmExitResult(VmExitKind.Error, (int)sub, $"vcpu{Index}: KVM internal error ({what}) {DescribeRip(memory)}; data [{extra}]"));
                    break;
                }

            case KvmExit.KVM_EXIT_FAIL_ENTRY:
                control.RequestStop(new VmExitResult(VmExitKind.Error, -1, $"vcpu{Index}: KVM failed to enter the guest, hardware reason 0x{*(ulong*)(run + KvmRunLayout.FailEntryReason):x} {DescribeRip(memory)}"));
                break;

            default:
                control.RequestStop(new VmExitResult(VmExitKind.Error, (int)reason, $"vcpu{Index}: unhandled KVM exit reason {reason} {DescribeRip(memory)}"));
                break;
        }
    }

    /// <summary>"at RIP 0x… (guest bytes …)" for error messages, walking the guest page tables for the bytes.</summary>
    private string DescribeRip(GuestMemory memory)
    {
        try
        {
            var regs = GetRegs();
            var sregs = GetSregs();
            var bytes = "unreadable";
            if (PageWalk.Translate(memory, sregs, regs.Rip) is { } gpa && memory.IsValid(gpa, 1))
            {
                var n = 0;
                while (n < 15 && memory.IsValid(gpa + (ulong)n + 1, 1))
                {
                    n++;
                }

                bytes = Convert.ToHexString(memory.GetSpan(gpa, n + 1)).ToLowerInvariant();
            }

            return $"at RIP 0x{regs.Rip:x} (guest bytes {bytes}, CR0 0x{sregs.Cr0:x} CR3 0x{sregs.Cr3:x} CR4 0x{sregs.Cr4:x} EFER 0x{sregs.Efer:x})";
        }
        catch (Exception e) when (e is IOException or GuestMemoryException or InvalidOperationException)
        {
            return $"(registers unreadable: {e.Message})";
        }
    }
}
