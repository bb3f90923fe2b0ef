// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Functions;
using Nexus.Interop;
using Nexus.Node.Transports;
using Nexus.Node.Transports.NexusChannel;
using Nexus.Sandbox;
using Nexus.Sandbox.Microvm;
using Nexus.Testing;
using Nexus.Testing.Channel;

namespace Nexus.Node.Tests;

/// <summary>
/// The freestanding runtime guest (guest/test/runtime.c) in micro-VMs of the <c>microvm</c> driver, against the node's
/// real channel transport: its invocation service, the backend's storage service and a real store. Validates the guest's
/// channel protocol and the driver's snapshot, restore, crash and cleanup paths without the rest of the node.
/// </summary>
[Collection("microvm drivers")] // not beside each other: a driver's start removes leftovers by prefix, "nx" covers both
public sealed class MicrovmDriverTests : IAsyncLifetime
{
    private readonly string _run = Directory.CreateTempSubdirectory("nexus-microvm-test-").FullName;
    private readonly List<string> _log = [];
    private NodeUnderTest _node = null!;
    private MicrovmSandboxDriver _driver = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync();
        _driver = NewDriver(snapshots: true);
        await _driver.PrepareHostAsync(CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        // As a stopped node: the service link the driver's start made goes (the last driver of the process to release it removes it).
        await _driver.ReleaseHostAsync();
        await _driver.DisposeAsync();
        await _node.DisposeAsync();
        Directory.Delete(_run, recursive: true);
    }

    /// <summary>The event the runtime guest takes (a flat JSON object; see runtime.c).</summary>
    public static string Event(string key, string outKey, string? action = null) =>
        $$"""{"Bucket":"{{NodeUnderTest.Bucket}}","Key":"{{key}}","OutKey":"{{outKey}}"{{(action is null ? "" : $",\"Action\":\"{action}\"")}}}""";

    /// <summary>FNV-1a (32-bit) as the guest computes it over the input object.</summary>
    public static string Fnv1a(byte[] data)
    {
        var hash = 2166136261u;
        foreach (var b in data)
        {
            hash = unchecked((hash ^ b) * 16777619u);
        }

        return hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
    }

    [KvmFact]
    public async Task Restored_guests_serve_invocations_over_the_region_with_storage_calls_and_prefetch()
    {
        var input = "hello from a microvm"u8.ToArray();
        await _node.PutAsync("fn/in.txt", input);
        await _node.PutAsync("fn/in2.txt", "second"u8.ToArray());
        var manifest = NodeUnderTest.Manifest() with { Inputs = [new InputHint(InputValue.Parse("$.Bucket"), InputValue.Parse("$.Key"))] };

        for (var n = 0; n < 2; n++)
        {
            var id = $"nx-mvm-{n}";
            var output = new List<string>();
            await using var transport = new ChannelTransport(_node.Host, _node.Backend, manifest, id);
            var payload = Encoding.UTF8.GetBytes(Event("fn/in.txt", $"fn/out-{n}.txt"));

            // As the pool does for a cold start: the prefetch starts before the VM exists, into the region it will map.
            var hitsBefore = _node.Backend.PrefetchStats.Snapshot().Hits;
            transport.BeginPrefetch(Nexus.Backend.Prefetch.PrefetchHints.Start(manifest, payload));
            await using var vm = (MicrovmSandboxInstance)await _driver.StartAsync(Spec(id, transport, output), CancellationToken.None);
            Assert.True(vm.Restored);
            await transport.Ready.WaitAsync(TimeSpan.FromSeconds(60));

            var cold = await transport.InvokeAsync(new Invocation($"r{n}a", payload, DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
            Assert.False(cold.IsError, Encoding.UTF8.GetString(cold.Payload.Span) + "\n" + Lines(output));
            using (var result = JsonDocument.Parse(cold.Payload))
            {
                Assert.Equal("fn/in.txt", result.RootElement.GetProperty("Key").GetString());
                Assert.Equal(input.Length, result.RootElement.GetProperty("Bytes").GetInt32());
                Assert.Equal(Fnv1a(input), result.RootElement.GetProperty("Fnv1a").GetString());
            }

            Assert.Equal("HELLO FROM A MICROVM"u8.ToArray(), await _node.GetAsync($"fn/out-{n}.txt"));
            Assert.True(_node.Backend.PrefetchStats.Snapshot().Hits > hitsBefore, "the guest's GetObject should be served from the prefetched slots");

            // Warm: the next invocation is pushed into the request that carried the result.
            var warm = await transport.InvokeAsync(new Invocation($"r{n}b", Encoding.UTF8.GetBytes(Event("fn/in2.txt", "fn/out2.txt")), DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
            Assert.False(warm.IsError, Encoding.UTF8.GetString(warm.Payload.Span));
            Assert.Equal("SECOND"u8.ToArray(), await _node.GetAsync("fn/out2.txt"));

            // A storage error is the invocation's error; a key outside the grants is refused by the backend, not the guest.
            var missing = await transport.InvokeAsync(new Invocation($"r{n}c", Encoding.UTF8.GetBytes(Event("fn/none.txt", "fn/x.txt")), DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
            Assert.Equal("GetObjectFailed", missing.ErrorType);
            Assert.Contains("404", Encoding.UTF8.GetString(missing.Payload.Span), StringComparison.Ordinal);
            var denied = await transport.InvokeAsync(new Invocation($"r{n}d", Encoding.UTF8.GetBytes(Event("fn/in.txt", "elsewhere/x.txt")), DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
            Assert.Equal("PutObjectFailed", denied.ErrorType);
            Assert.Contains("403", Encoding.UTF8.GetString(denied.Payload.Span), StringComparison.Ordinal);

            Assert.Contains(output, l => l.Contains("fn/in.txt -> fn/out-", StringComparison.Ordinal));
            Assert.True(vm.ReadMemory().PssBytes > 0);

            // Unjailed (the node's default), the VMM still runs in its VM's memory, pids and cpu cgroups, whose quota
            // follows the function's share once the pool lowers it.
            Assert.Null(vm.Jail);
            var cgroups = File.ReadAllText($"/proc/{vm.Pid}/cgroup");
            foreach (var controller in new[] { "memory", "pids", "cpu" })
            {
                Assert.Matches($@"(^|\n)\d+:([a-z_]+,)*{controller}(,[a-z_]+)*:/nexus-microvm/{id}\n", cgroups);
            }

            Assert.True(vm.TrySetCpuLimit(256.0 / 1769));
            Assert.Equal("14471", CgroupValue(vm.Cgroup!.Directories[2], "cpu.cfs_quota_us"));
            Assert.Equal(vm.ReadMemory().CgroupBytes, long.Parse(CgroupValue(vm.Cgroup.MemoryDirectory, "memory.usage_in_bytes"), System.Globalization.CultureInfo.InvariantCulture), 32L << 20);

            // Its VMM's threads (the vCPU's included) take the pool's slice request, as a container's processes do.
            Assert.True(vm.TrySetSliceRequest(200_000));
            var slices = Directory.GetDirectories($"/proc/{vm.Pid}/task")
                .Select(t => File.ReadLines(Path.Combine(t, "sched")).First(l => l.StartsWith("se.slice", StringComparison.Ordinal)).Split(':')[1].Trim())
                .ToList();
            Assert.All(slices, slice => Assert.Equal("200000", slice));
        }

        Assert.Equal(1, _driver.SnapshotCount);
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_run, "instances")));
    }

    [KvmFact]
    public async Task A_guest_that_crashes_or_exits_ends_its_instance_with_a_reported_exit()
    {
        foreach (var (action, code) in new[] { ("crash", 1), ("exit", 7) })
        {
            var id = "nx-mvm-" + action;
            var output = new List<string>();
            await using var transport = new ChannelTransport(_node.Host, _node.Backend, NodeUnderTest.Manifest(), id);
            await using var vm = await _driver.StartAsync(Spec(id, transport, output), CancellationToken.None);
            await transport.Ready.WaitAsync(TimeSpan.FromSeconds(60));
            var invoke = transport.InvokeAsync(new Invocation("r-" + action, Encoding.UTF8.GetBytes(Event("fn/a", "fn/b", action)), DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
            var exit = await vm.Exited.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.True(exit.ExitCode == code, $"{action}: exit {exit.ExitCode} signal {exit.Signal}\n{Lines(output)}");
            Assert.False(invoke.IsCompletedSuccessfully);
            if (action == "crash")
            {
                Assert.Contains(output, l => l.Contains("Shutdown", StringComparison.Ordinal));
            }
        }
    }

    [KvmFact]
    public async Task A_hung_guest_is_killed_and_an_earlier_nodes_vmms_are_removed_at_start()
    {
        var id = "nx-mvm-hang";
        await using var transport = new ChannelTransport(_node.Host, _node.Backend, NodeUnderTest.Manifest(), id);
        var vm = (MicrovmSandboxInstance)await _driver.StartAsync(Spec(id, transport, []), CancellationToken.None);
        await transport.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        var invoke = transport.InvokeAsync(new Invocation("r-hang", Encoding.UTF8.GetBytes(Event("fn/a", "fn/b", "hang")), DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
        await Task.Delay(500);
        Assert.False(invoke.IsCompleted);
        Assert.False(vm.Exited.IsCompleted);

        // The node "crashes": a new driver on the same run directory finds the VMM by its pid file and kills it.
        var pid = vm.Pid;
        await using (var next = NewDriver(snapshots: true))
        {
            await next.PrepareHostAsync(CancellationToken.None);
            await next.ReleaseHostAsync();
        }

        var exit = await vm.Exited.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(9, exit.Signal);
        Assert.False(Directory.Exists($"/proc/{pid}/task"));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_run, "instances")));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_run, "snapshots")));
        await vm.DisposeAsync();
    }

    [KvmFact]
    public async Task A_retired_revisions_snapshot_is_deleted_at_once_while_its_running_vm_keeps_serving()
    {
        await _node.PutAsync("fn/retire.txt", "retire"u8.ToArray());
        var snapshots = Path.Combine(_run, "snapshots");
        await using var oldTransport = new ChannelTransport(_node.Host, _node.Backend, NodeUnderTest.Manifest(), "nx-mvm-old");
        await using var old = (MicrovmSandboxInstance)await _driver.StartAsync(Spec("nx-mvm-old", oldTransport, []), CancellationToken.None);
        await oldTransport.Ready.WaitAsync(TimeSpan.FromSeconds(60));

        // A second revision whose key starts with the first's: releasing "fn-1" must leave "fn-1-2" alone.
        await using var nextTransport = new ChannelTransport(_node.Host, _node.Backend, NodeUnderTest.Manifest(), "nx-mvm-next");
        await using var next = (MicrovmSandboxInstance)await _driver.StartAsync(Spec("nx-mvm-next", nextTransport, []) with { TemplateKey = "fn-1-2" }, CancellationToken.None);
        Assert.True(next.Restored);
        Assert.Equal(2, _driver.SnapshotCount);

        _driver.ReleaseTemplate("fn-1");
        var left = Directory.EnumerateDirectories(snapshots).Select(Path.GetFileName).ToList();
        for (var i = 0; i < 100 && left.Count != 1; i++)
        {
            await Task.Delay(50);
            left = [.. Directory.EnumerateDirectories(snapshots).Select(Path.GetFileName)];
        }

        Assert.Equal(1, _driver.SnapshotCount);
        Assert.Single(left);
        Assert.Contains("-fn-1-2-", left[0], StringComparison.Ordinal);

        // The old revision's VM keeps serving (it restored from its own links of the deleted files).
        var warm = await oldTransport.InvokeAsync(new Invocation("r-retired", Encoding.UTF8.GetBytes(Event("fn/retire.txt", "fn/retire-out.txt")), DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
        Assert.False(warm.IsError, Encoding.UTF8.GetString(warm.Payload.Span));
        Assert.Equal("RETIRE"u8.ToArray(), await _node.GetAsync("fn/retire-out.txt"));
    }

    [KvmFact]
    public async Task Without_snapshots_every_instance_boots_its_guest()
    {
        await using var booting = NewDriver(snapshots: false);
        var id = "nx-mvm-boot";
        await _node.PutAsync("fn/boot.txt", "boot"u8.ToArray());
        await using var transport = new ChannelTransport(_node.Host, _node.Backend, NodeUnderTest.Manifest(), id);
        await using var vm = (MicrovmSandboxInstance)await booting.StartAsync(Spec(id, transport, []), CancellationToken.None);
        Assert.False(vm.Restored);
        await transport.Ready.WaitAsync(TimeSpan.FromSeconds(60));
        var result = await transport.InvokeAsync(new Invocation("r-boot", Encoding.UTF8.GetBytes(Event("fn/boot.txt", "fn/boot-out.txt")), DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
        Assert.False(result.IsError, Encoding.UTF8.GetString(result.Payload.Span));
        Assert.Equal("BOOT"u8.ToArray(), await _node.GetAsync("fn/boot-out.txt"));
        Assert.Equal(0, booting.SnapshotCount);
    }

    [KvmFact]
    public async Task A_jailed_vmm_sees_only_its_chroot_runs_as_its_own_uid_in_its_namespaces_and_cgroup_and_serves_invocations()
    {
        await using var jailed = NewDriver(snapshots: true, jail: new VmmJailOptions());
        var id = "nx-mvm-jail";
        await _node.PutAsync("fn/jail.txt", "jailed"u8.ToArray());
        var output = new List<string>();
        await using var transport = new ChannelTransport(_node.Host, _node.Backend, NodeUnderTest.Manifest(), id);
        var vm = (MicrovmSandboxInstance)await jailed.StartAsync(Spec(id, transport, output), CancellationToken.None);
        var jail = vm.Jail!;
        var cgroup = vm.Cgroup!;
        try
        {
            // End to end through the jail: restored from the snapshot hard-linked into the chroot, the channel's fds passed in.
            Assert.True(vm.Restored);
            await Task.WhenAny(transport.Ready, vm.Exited, Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.True(transport.Ready.IsCompletedSuccessfully, "the jailed guest did not become ready: " + Lines(output));
            var result = await transport.InvokeAsync(new Invocation("r-jail", Encoding.UTF8.GetBytes(Event("fn/jail.txt", "fn/jail-out.txt")), DateTimeOffset.UtcNow.AddMinutes(1), "arn:test"), CancellationToken.None);
            Assert.False(result.IsError, Encoding.UTF8.GetString(result.Payload.Span) + "\n" + Lines(output));
            Assert.Equal("JAILED"u8.ToArray(), await _node.GetAsync("fn/jail-out.txt"));

            var pid = vm.Pid;
            Assert.True(pid > 0 && pid != Environment.ProcessId);
            var status = File.ReadAllLines($"/proc/{pid}/status").Select(l => l.Split(':', 2)).ToDictionary(p => p[0], p => p[1].Trim());

            // Its own uid and gid (real, effective, saved, fs), no supplementary groups, no capabilities; PID 1 of its namespace.
            var uid = jail.Uid.ToString(System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal([uid, uid, uid, uid], status["Uid"].Split('\t'));
            Assert.Equal([uid, uid, uid, uid], status["Gid"].Split('\t'));
            Assert.Equal("", status["Groups"]);
            Assert.Equal("0000000000000000", status["CapEff"]);
            Assert.Equal("0000000000000000", status["CapPrm"]);
            Assert.EndsWith("\t1", status["NSpid"], StringComparison.Ordinal);

            // Mount, PID and network namespaces of its own.
            foreach (var ns in new[] { "mnt", "pid", "net" })
            {
                Assert.NotEqual(File.ResolveLinkTarget($"/proc/self/ns/{ns}", false)!.FullName, File.ResolveLinkTarget($"/proc/{pid}/ns/{ns}", false)!.FullName);
            }

            // Its root is the chroot, which holds only its executable, the loader's libraries, the snapshot, two device nodes and /proc.
            Assert.Equal(jail.Root, File.ResolveLinkTarget($"/proc/{pid}/root", false)!.FullName.TrimEnd('/'));
            var files = Directory.EnumerateFileSystemEntries(jail.Root, "*", SearchOption.AllDirectories)
                .Where(f => !f.StartsWith(Path.Combine(jail.Root, "proc") + "/", StringComparison.Ordinal))
                .Where(f => !Directory.Exists(f))
                .Select(f => "/" + Path.GetRelativePath(jail.Root, f))
                .Order(StringComparer.Ordinal)
                .ToList();
            Assert.Equal([.. new[] { "/dev/kvm", "/nexus-vmm", "/snapshot/vm.mem", "/snapshot/vm.state" }.Concat(jailed.Jail!.Libraries).Order(StringComparer.Ordinal)], files);

            // The snapshot was made by a jailed VMM too, then handed over root-owned and read-only to every restored VM.
            Assert.Contains(_log, l => l.Contains("ready snapshot", StringComparison.Ordinal));
            foreach (var file in new[] { "vm.mem", "vm.state" })
            {
                var path = Path.Combine(jail.Root, "snapshot", file);
                var owner = await HostTool.RunAsync("/usr/bin/stat", ["-c", "%a %u:%g", path]);
                Assert.Equal("444 0:0", owner.StandardOutput.Trim());
            }

            // Its own memory cgroup, limited to guest memory + region + overhead.
            Assert.Contains($":memory:/nexus-microvm/{id}", File.ReadAllText($"/proc/{pid}/cgroup"), StringComparison.Ordinal);
            var limit = long.Parse(File.ReadAllText(Path.Combine(cgroup.MemoryDirectory, "memory.limit_in_bytes")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            Assert.Equal((32L << 20) + Nexus.Interop.Memory.Length((Nexus.Interop.SafeFd)transport.PassedFds[0]) + new VmCgroupOptions().OverheadBytes, limit);
            Assert.True(vm.ReadMemory().CgroupBytes > 0);

            // Its own pids and cpu cgroups, their limits read back from cgroupfs: the VMM's threads and unshare are
            // counted there, below the limit; the CFS quota and weight are the spec's CPUs (1) until the pool lowers
            // them to the function's share, which the whole VM then gets.
            var (pids, cpu) = (cgroup.Directories[1], cgroup.Directories[2]);
            Assert.Contains($":pids:/nexus-microvm/{id}\n", File.ReadAllText($"/proc/{pid}/cgroup"), StringComparison.Ordinal);
            Assert.Contains($":cpu:/nexus-microvm/{id}\n", File.ReadAllText($"/proc/{pid}/cgroup"), StringComparison.Ordinal);
            Assert.Equal("32", CgroupValue(pids, "pids.max"));
            var threads = Directory.GetDirectories($"/proc/{pid}/task").Length;
            var counted = int.Parse(CgroupValue(pids, "pids.current"), System.Globalization.CultureInfo.InvariantCulture);
            Assert.True(counted > threads && counted <= 32, $"pids.current {counted}, the VMM's threads {threads}");
            Assert.Equal("100000", CgroupValue(cpu, "cpu.cfs_period_us"));
            Assert.Equal("100000", CgroupValue(cpu, "cpu.cfs_quota_us"));
            Assert.Equal("1024", CgroupValue(cpu, "cpu.shares"));
            Assert.True(vm.TrySetCpuLimit(256.0 / 1769));
            Assert.Equal("14471", CgroupValue(cpu, "cpu.cfs_quota_us"));
            Assert.Equal("148", CgroupValue(cpu, "cpu.shares"));
        }
        finally
        {
            await vm.StopAsync();
        }

        Assert.All(cgroup.Directories, d => Assert.False(Directory.Exists(d), d));
        Assert.False(Directory.Exists(vm.RunFolder));
    }

    /// <summary>
    /// Guards the jail's pids limit: with 4 (unshare and the VMM's first threads fit, the rest of its threads do not) the
    /// kernel refuses the VMM's thread creation (counted in pids.events) and the VM never gets going. With the pids.max
    /// write removed once, the VM became ready and this failed.
    /// </summary>
    [KvmFact]
    public async Task A_jailed_vmm_cannot_start_more_threads_than_its_pids_limit()
    {
        await using var jailed = NewDriver(snapshots: false, jail: new VmmJailOptions(), cgroups: new VmCgroupOptions { PidsMax = 4 });
        var id = "nx-mvm-pids";
        var output = new List<string>();
        await using var transport = new ChannelTransport(_node.Host, _node.Backend, NodeUnderTest.Manifest(), id);
        var vm = (MicrovmSandboxInstance)await jailed.StartAsync(Spec(id, transport, output), CancellationToken.None);
        try
        {
            await Task.WhenAny(transport.Ready, vm.Exited, Task.Delay(TimeSpan.FromSeconds(60)));
            Assert.False(transport.Ready.IsCompleted, "the VM got going under a pids limit of 4: " + Lines(output));
            var exit = await vm.Exited;
            Assert.True(exit.ExitCode is not 0, $"{exit}: {Lines(output)}");
            var refused = CgroupValue(vm.Cgroup!.Directories[1], "pids.events");
            Assert.True(refused.StartsWith("max ", StringComparison.Ordinal) && refused != "max 0", refused);
        }
        finally
        {
            await vm.StopAsync();
        }

        Assert.All(vm.Cgroup.Directories, d => Assert.False(Directory.Exists(d), d));
    }

    private static string CgroupValue(string directory, string file) => File.ReadAllText(Path.Combine(directory, file)).Trim();

    private MicrovmSandboxDriver NewDriver(bool snapshots, VmmJailOptions? jail = null, VmCgroupOptions? cgroups = null) => new(new MicrovmDriverOptions
    {
        Cgroups = cgroups ?? new VmCgroupOptions(),
        GuestKernel = TestGuests.Build("runtime"),
        GuestKind = MicrovmGuestKind.Freestanding,
        RunDirectory = _run,
        Snapshots = snapshots,
        Jail = jail,
        Log = line =>
        {
            lock (_log)
            {
                _log.Add(line);
            }
        },
    });

    private static SandboxSpec Spec(string id, ChannelTransport transport, List<string> output) =>
        GuestSpec(id, output) with { PassedFds = transport.PassedFds, TemplateKey = "fn-1" };

    /// <summary>A microvm instance of 32 MiB whose output lines go to <paramref name="output"/>.</summary>
    internal static SandboxSpec GuestSpec(string id, List<string> output) => new()
    {
        InstanceId = id,
        Driver = "microvm",
        RootfsPath = "/",
        Command = ["(the guest kernel)"],
        MemoryMb = 32,
        OnOutput = (line, _) =>
        {
            lock (output)
            {
                output.Add(line);
            }
        },
    };

    internal static string Lines(List<string> output)
    {
        lock (output)
        {
            return string.Join("\n", output);
        }
    }
}
