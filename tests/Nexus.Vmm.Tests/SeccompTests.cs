// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.ComponentModel;
using System.Diagnostics;
using System.Net.Sockets;
using Nexus.Interop;
using Nexus.Testing;
using Nexus.Vmm.Builder;
using Nexus.Vmm.Security;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Tests;

/// <summary>The seccomp filters of the vCPU and device threads.</summary>
public sealed class SeccompTests
{
    [Fact]
    public void VcpuFilterRefusesProcessesAndSocketsButNotThreads()
    {
        Assert.True(Seccomp.IsAvailable, "libseccomp.so.2 (Debian libseccomp2) is missing");
        Exception? socket = null, spawn = null;
        bool threadRan = false;
        int filteredMode = -1, callerTid = Seccomp.CurrentThreadId();
        var confined = new Thread(() =>
        {
            Seccomp.ApplyToCurrentThread(ThreadFilters.Vcpu);
            filteredMode = Seccomp.ModeOfThread(Seccomp.CurrentThreadId());
            socket = Record.Exception(() => new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified).Dispose());
            spawn = Record.Exception(() => Process.Start("/bin/true")?.WaitForExit());
            var child = new Thread(() => threadRan = true);
            child.Start();
            child.Join();
        });
        confined.Start();
        confined.Join();

        Assert.Equal(2, filteredMode);
        Assert.Equal(SocketError.AccessDenied, Assert.IsType<SocketException>(socket).SocketErrorCode);
        Assert.IsType<Win32Exception>(spawn);
        Assert.True(threadRan, "a thread started from a filtered thread did not run");

        // Only that thread (and its children) were confined.
        Assert.Equal(0, Seccomp.ModeOfThread(callerTid));
    }

    /// <summary>
    /// Guards the vCPU filter's write-open denial (ThreadFilters.Vcpu, WriteOpens): code on a vCPU thread must not get
    /// a writable /proc/self/mem, through which it could patch the code the process's unfiltered threads run. Checked
    /// by removing the WriteOpens denials once: the filtered open then succeeded and this test failed.
    /// </summary>
    [Fact]
    public void VcpuThreadCannotOpenProcSelfMemForWriting()
    {
        // Control: unfiltered, the open works (root may open its own mem), so a refusal below is the filter's.
        File.OpenHandle("/proc/self/mem", FileMode.Open, FileAccess.ReadWrite).Dispose();

        Exception? mem = null, taskMem = null, scratch = null, read = null;
        var scratchPath = Path.Combine(Path.GetTempPath(), $"nexus-seccomp-{Environment.ProcessId}");
        var confined = new Thread(() =>
        {
            Seccomp.ApplyToCurrentThread(ThreadFilters.Vcpu);
            mem = Record.Exception(() => File.OpenHandle("/proc/self/mem", FileMode.Open, FileAccess.ReadWrite).Dispose());
            taskMem = Record.Exception(() => File.OpenHandle($"/proc/self/task/{Seccomp.CurrentThreadId()}/mem", FileMode.Open, FileAccess.Write).Dispose());
            scratch = Record.Exception(() => File.WriteAllText(scratchPath, "x"));
            read = Record.Exception(() => File.ReadAllText("/proc/self/status"));
        });
        confined.Start();
        confined.Join();

        Assert.IsType<UnauthorizedAccessException>(mem);
        Assert.IsType<UnauthorizedAccessException>(taskMem);
        Assert.IsType<UnauthorizedAccessException>(scratch);
        Assert.False(File.Exists(scratchPath));
        Assert.Null(read);
    }

    [Fact]
    public void UnknownSyscallNameIsAnError()
    {
        Exception? error = null;
        var thread = new Thread(() => error = Record.Exception(() => Seccomp.ApplyToCurrentThread([new SeccompDenial("no_such_call")])));
        thread.Start();
        thread.Join();
        Assert.Contains("no_such_call", Assert.IsType<ArgumentException>(error).Message, StringComparison.Ordinal);
    }

    [KvmFact]
    public void VcpuAndDeviceThreadsRunGuestWorkUnderTheFilter()
    {
        int modeOnVcpu = -1;
        SocketError? socketOnVcpu = null;
        Exception? memOnVcpu = null;
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = TestGuests.Build("hello"),
            MemoryMiB = 32,
            ConsoleOutput = _ =>
            {
                // Serial output is emulated on the vCPU thread that wrote it.
                if (modeOnVcpu == -1)
                {
                    modeOnVcpu = Seccomp.ModeOfThread(Seccomp.CurrentThreadId());
                    try
                    {
                        new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified).Dispose();
                        socketOnVcpu = SocketError.Success;
                    }
                    catch (SocketException e)
                    {
                        socketOnVcpu = e.SocketErrorCode;
                    }

                    memOnVcpu = Record.Exception(() => File.OpenHandle("/proc/self/mem", FileMode.Open, FileAccess.ReadWrite).Dispose());
                }
            },
        });
        vm.Start();
        var exit = vm.WaitForExit(TimeSpan.FromSeconds(60));

        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, exit.ToString());
        Assert.Equal(2, modeOnVcpu);
        Assert.Equal(SocketError.AccessDenied, socketOnVcpu);
        Assert.IsType<UnauthorizedAccessException>(memOnVcpu);
        Assert.Equal(2, Seccomp.ModeOfThread(vm.DeviceEvents.ThreadId));
    }
}
