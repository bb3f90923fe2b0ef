// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net;
using Nexus.Interop;
using Nexus.Sandbox.Template;
using Nexus.Testing;

namespace Nexus.Sandbox.Tests;

/// <summary>
/// The fork template's pid check (docs/threat-model.md, "Fork templates"): a template runs function code, so the pid
/// it reports for a forked child is acted on (moved into the instance's cgroup, held by a pidfd, killed when the
/// instance stops) only if a process with that namespace pid is in the template's own cgroup. Here a hostile template
/// in its own pid namespace answers a fork request with the namespace pid of another sandbox's process instead of
/// forking. Run under the integration lock (it makes cgroups).
/// </summary>
public sealed class TemplatePidCheckTests : IAsyncLifetime
{
    // A namespace pid no ordinary container reaches, so that nothing but the victim carries it.
    private const int VictimNamespacePid = 4321;
    private const string CgroupRoot = "/sys/fs/cgroup";

    private readonly string _cgroupParent = "nexus-pidcheck-" + Environment.ProcessId.ToString(CultureInfo.InvariantCulture);
    private SpawnedProcess? _victim;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_victim is not null)
        {
            _victim.Kill();
            await _victim.WaitForExitAsync();
        }

        foreach (var controller in CgroupV1Controllers)
        {
            var parent = Path.Combine(CgroupRoot, controller, _cgroupParent);
            if (Directory.Exists(parent))
            {
                foreach (var child in Directory.GetDirectories(parent))
                {
                    await RemoveCgroupAsync(child);
                }

                await RemoveCgroupAsync(parent);
            }
        }
    }

    private static string[] CgroupV1Controllers => ["memory", "cpu", "cpuacct", "pids"];

    /// <summary>
    /// The forged pid is refused: the fork falls back to a fresh start, and the other sandbox's process stays alive
    /// in its own cgroup. With the search widened from the template's cgroup to every process once, the victim was
    /// moved into the new instance's cgroup and counted as forked, and this failed.
    /// </summary>
    [RootFact(runc: false)]
    public async Task A_template_reporting_another_sandboxs_pid_gets_no_instance_of_it()
    {
        _victim = SpawnedProcess.Start("/usr/bin/unshare", ["unshare", "--pid", "--fork", "--kill-child", "--mount-proc", "sh", "-c",
            $"echo {VictimNamespacePid - 1} > /proc/sys/kernel/ns_last_pid; sleep 600 & wait"], new Dictionary<string, string> { ["PATH"] = "/usr/bin:/bin" }, []);
        var victim = await FindVictimAsync(_victim.Pid);
        var victimCgroups = File.ReadAllText($"/proc/{victim}/cgroup");

        // The hostile template is a plain process in the host's mount namespace: no instance roots (PrivateTmp off), so
        // that the fork request, and with it the pid check, is reached.
        var inner = new HostileTemplateDriver(_cgroupParent);
        var log = new List<string>();
        await using (var driver = new TemplateSandboxDriver(inner, new TemplateDriverOptions { CgroupParent = _cgroupParent, PrivateTmp = false, Log = line => { lock (log) { log.Add(line); } } }))
        {
            using var fd1 = EventFd.Create(0, EventFdFlags.CloseOnExec);
            using var fd2 = EventFd.Create(0, EventFdFlags.CloseOnExec);
            using var fd3 = EventFd.Create(0, EventFdFlags.CloseOnExec);
            await using var instance = await driver.StartAsync(
                new SandboxSpec { InstanceId = "pidcheck-instance", RootfsPath = "/", Command = ["/bin/true"], TemplateKey = "hostile", PassedFds = [fd1.Handle, fd2.Handle, fd3.Handle] },
                CancellationToken.None);

            Assert.Equal(1, inner.TemplatesStarted);
            Assert.Equal(0, driver.Stats.Forked);
            Assert.Equal(1, driver.Stats.Fallbacks);
            Assert.Equal(1, inner.PlainStarts);
            Assert.Contains(log, l => l.Contains("could not fork it", StringComparison.Ordinal));
        }

        Assert.True(Directory.Exists($"/proc/{victim}"), "the other sandbox's process was killed");
        Assert.Equal(victimCgroups, File.ReadAllText($"/proc/{victim}/cgroup"));
    }

    // The victim is the unshare's grandchild (unshare, then sh as pid 1 of the namespace, then sleep).
    private static async Task<int> FindVictimAsync(int unsharePid)
    {
        for (var attempt = 0; attempt < 200; attempt++)
        {
            foreach (var sh in Children(unsharePid))
            {
                foreach (var sleep in Children(sh))
                {
                    var nspid = File.ReadLines($"/proc/{sleep}/status").First(l => l.StartsWith("NSpid:", StringComparison.Ordinal));
                    Assert.EndsWith("\t" + VictimNamespacePid.ToString(CultureInfo.InvariantCulture), nspid, StringComparison.Ordinal);
                    return sleep;
                }
            }

            await Task.Delay(25);
        }

        throw new InvalidOperationException("the victim sandbox did not start");
    }

    private static IEnumerable<int> Children(int pid)
    {
        var path = $"/proc/{pid}/task/{pid}/children";
        return File.Exists(path) ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToArray() : [];
    }

    private static async Task RemoveCgroupAsync(string directory)
    {
        for (var attempt = 0; attempt < 50 && Directory.Exists(directory); attempt++)
        {
            try
            {
                Directory.Delete(directory);
            }
            catch (IOException)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>
    /// The inner driver: a template is a process in its own pid namespace and in the cgroup the template driver looks
    /// in, speaking the control protocol, and forging the reply to every fork request; a plain start is a sleep.
    /// </summary>
    private sealed class HostileTemplateDriver(string cgroupParent) : ISandboxDriver
    {
        private const string Template = """
            import json, os, socket
            s = socket.socket(fileno=3)
            s.send(b'{"ready": true}')
            while True:
                msg, fds, _, _ = socket.recv_fds(s, 65536, 16)
                if not msg:
                    break
                s.send(json.dumps({"id": json.loads(msg)["id"], "pid": int(os.environ["FORGED_PID"])}).encode())
            """;

        public int TemplatesStarted { get; private set; }

        public int PlainStarts { get; private set; }

        public string Name => "hostile-template";

        public Task PrepareHostAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken)
        {
            if (!spec.Command.Contains("--template"))
            {
                PlainStarts++;
                return Task.FromResult<ISandboxInstance>(new ProcessInstance(spec.InstanceId, SpawnedProcess.Start("/bin/sleep", ["sleep", "600"], new Dictionary<string, string>(), [])));
            }

            TemplatesStarted++;
            var procs = Path.Combine(CgroupRoot, "memory", cgroupParent, spec.InstanceId);
            Directory.CreateDirectory(procs);
            var environment = new Dictionary<string, string>
            {
                ["PATH"] = "/usr/bin:/bin",
                ["TEMPLATE"] = Template,
                ["FORGED_PID"] = VictimNamespacePid.ToString(CultureInfo.InvariantCulture),
            };
            var process = SpawnedProcess.Start("/bin/sh", ["sh", "-c", $"echo $$ > {procs}/cgroup.procs && exec unshare --pid --fork --kill-child python3 -c \"$TEMPLATE\""], environment, [((SafeFd)spec.PassedFds[0], 3)]);
            return Task.FromResult<ISandboxInstance>(new ProcessInstance(spec.InstanceId, process));
        }
    }

    private sealed class ProcessInstance(string instanceId, SpawnedProcess process) : ISandboxInstance
    {
        public string InstanceId => instanceId;

        public IPAddress? Address => null;

        public Task<SandboxExit> Exited { get; } = process.WaitForExitAsync().ContinueWith(t => new SandboxExit(t.Result, null, false), TaskScheduler.Default);

        public int Pid => process.Pid;

        public SandboxMemory ReadMemory() => throw new NotSupportedException();

        public TimeSpan ReadCpuTime() => throw new NotSupportedException();

        public void DrainOutput(TimeSpan limit) => throw new NotSupportedException();

        public async Task StopAsync()
        {
            if (!Exited.IsCompleted)
            {
                // The template's sh has exec'd unshare --kill-child: its child, the namespace's pid 1, dies with it.
                process.Kill();
            }

            await Exited;
        }

        public async ValueTask DisposeAsync() => await StopAsync();
    }
}
