// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Runtime.InteropServices;
using Nexus.Interop;
using Nexus.Sandbox.Oci;

namespace Nexus.Sandbox.Microvm;

/// <summary>VMM processes: starting one with its descriptors and output, and finding one an earlier node left running.</summary>
internal static class VmmProcesses
{
    /// <summary>
    /// Starts the VMM (<paramref name="command"/>: executable and leading arguments) with <paramref name="fds"/> as its
    /// fd 3, 4, ... and its stdout/stderr to <paramref name="onOutput"/>. A jailed VMM (<paramref name="jailed"/>) moves
    /// itself into its VM's cgroups; an unjailed one is moved into <paramref name="cgroup"/> at once, or, with none, out
    /// of the node's CPU group, so the guest does not run at the node's weight (<see cref="NodeCpuGroup"/>).
    /// </summary>
    public static (ChildProcess Vmm, OutputPump[] Pumps) Spawn(IReadOnlyList<string> command, IReadOnlyList<string> arguments, IReadOnlyList<SafeHandle> fds, Action<string, bool>? onOutput, bool jailed, VmCgroup? cgroup)
    {
        var (stdoutHost, stdoutChild) = ChildProcess.CreateSocketPair();
        var (stderrHost, stderrChild) = ChildProcess.CreateSocketPair();
        OutputPump[] pumps = [new OutputPump(stdoutHost, onOutput, isError: false), new OutputPump(stderrHost, onOutput, isError: true)];
        try
        {
            var vmm = ChildProcess.Spawn(new ChildStartInfo
            {
                Path = command[0],
                Arguments = [.. command.Skip(1), .. arguments],
                Environment = HostTool.Environment,
                StandardOutput = stdoutChild,
                StandardError = stderrChild,
                InheritedFds = fds,
                NewSession = true,
            });
            // posix_spawn returns once the VMM is exec'd: before it has mapped its guest, let alone run it.
            if (!jailed && cgroup is not null)
            {
                EnterOrKill(vmm, cgroup);
            }
            else if (!jailed)
            {
                NodeCpuGroup.ReturnToOrigin(vmm.Pid);
            }

            return (vmm, pumps);
        }
        catch
        {
            foreach (var pump in pumps)
            {
                pump.Abort();
            }

            throw;
        }
        finally
        {
            stdoutChild.Dispose();
            stderrChild.Dispose();
        }
    }

    /// <summary>
    /// A VM held to no limit is not started: a VMM that cannot be moved into its cgroups is killed. One that ended
    /// already (it failed at once) has nothing left to hold; its exit status says why.
    /// </summary>
    private static void EnterOrKill(ChildProcess vmm, VmCgroup cgroup)
    {
        try
        {
            cgroup.Enter(vmm.Pid);
        }
        catch (IOException) when (ProcessFiles.HasEnded(vmm.Pid))
        {
        }
        catch (IOException e)
        {
            vmm.Signal(9);
            throw new IOException($"the VMM (pid {vmm.Pid}) could not be moved into its cgroups {string.Join(", ", cgroup.Directories)}: {e.Message}", e);
        }
    }

    /// <summary>The "pid" file of a run folder: which process to kill if the node died without stopping it.</summary>
    public static void WritePidFile(string runFolder, int pid) =>
        File.WriteAllText(Path.Combine(runFolder, "pid"), pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>Kills the VMM named by a leftover pid file, if that process is still a nexus-vmm (a recycled pid is left alone).</summary>
    public static void KillLeftover(string folder)
    {
        var pidFile = Path.Combine(folder, "pid");
        if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 1)
        {
            return;
        }

        string commandLine;
        try
        {
            commandLine = File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return;
        }

        if (commandLine.Contains("nexus-vmm", StringComparison.Ordinal))
        {
            ChildProcess.Kill(pid, signal: 9);
        }
    }
}
