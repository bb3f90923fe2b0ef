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
    /// fd 3, 4, ... and its stdout/stderr to <paramref name="onOutput"/>. An unjailed VMM (<paramref name="jailed"/>
    /// false) runs the guest in no cgroup of its own: it is moved out of the node's CPU group at once, so the guest does
    /// not run at the node's weight (<see cref="NodeCpuGroup"/>); a jailed one moves itself into its jail's.
    /// </summary>
    public static (ChildProcess Vmm, OutputPump[] Pumps) Spawn(IReadOnlyList<string> command, IReadOnlyList<string> arguments, IReadOnlyList<SafeHandle> fds, Action<string, bool>? onOutput, bool jailed)
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
            if (!jailed)
            {
                // posix_spawn returns once the VMM is exec'd: before it has mapped its guest, let alone run it.
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
