// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Nexus.Bench.Hostile;
using Nexus.Sandbox.Oci;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// Each hostile tenant (<see cref="HostileTenants"/>) attacks a real node from its own runc sandbox while a victim
/// function on the same node is invoked again and again: the attack must be contained, reported with Lambda's error
/// type, and every victim invocation during and after it must succeed. Each test names the defence it guards and what
/// happened when that defence was removed once.
/// </summary>
public sealed class HostileTenantTests(NodeFixture fixture, ITestOutputHelper output) : IClassFixture<NodeFixture>
{
    /// <summary>
    /// Guards the outstanding-request cap (ChannelSessionOptions.MaxOutstandingPerInstance, 256): past it the host closes
    /// the channel and the node stops the instance (Runtime.ExitError naming the cap). With the cap removed (twice, with
    /// the flood as it is now), the flood ran its 8 s, the runtime then published a stale submission tail, the index
    /// check closed the channel instead, and this failed.
    /// </summary>
    [RootFact]
    public async Task A_tenant_flooding_its_ring_loses_its_channel_and_is_reported_as_an_exited_runtime()
    {
        var body = await AttackAsync("ring-flood");
        Assert.True(body.Contains("outstanding", StringComparison.Ordinal), body);
    }

    /// <summary>
    /// Guards the invocation timeout's kill (InstancePool.RunAsync): the backend waits for the tenant's slots without a
    /// thread, and the timeout stops the instance, returning its slots and its in-flight permits. Not tried with the
    /// kill removed: the attack would then never end.
    /// </summary>
    [RootFact]
    public async Task A_tenant_hoarding_its_slots_times_out_and_the_backend_serves_others_meanwhile() =>
        await AttackAsync("slot-hoard");

    /// <summary>
    /// Guards the bounded, thread-free waits for completion space (ChannelSession) and the timeout's kill: 200 requests
    /// the tenant never collects park on the host without holding a thread or more than the tenant's in-flight budget.
    /// Not tried with the kill removed: the attack would then never end.
    /// </summary>
    [RootFact]
    public async Task A_tenant_that_never_reads_completions_times_out_and_others_are_served() =>
        await AttackAsync("completion-ignore");

    /// <summary>
    /// Guards the pids limit of each sandbox's cgroup (pids.max, 512): the tenant's processes stop at the limit (its
    /// runtime's own threads count too), well before the 600 it tries. With the limit removed once the tenant started all
    /// 600 and returned a result, and this failed.
    /// </summary>
    [RootFact]
    public async Task A_fork_bomb_stops_at_the_pids_limit()
    {
        var body = await AttackAsync("fork-bomb");
        Assert.Contains("Resource temporarily unavailable", body, StringComparison.Ordinal);
        var refused = Regex.Match(body, @"process (\d+) refused");
        Assert.True(refused.Success, body);
        Assert.InRange(int.Parse(refused.Groups[1].Value, CultureInfo.InvariantCulture), 512 - 32, 512);
    }

    /// <summary>
    /// Guards the size of the sandbox's /tmp tmpfs (64 MiB): the tenant's writes fail with ENOSPC before 96 MiB. With the
    /// size option removed once the tenant wrote all 96 MiB and this failed.
    /// </summary>
    [RootFact]
    public async Task A_tenant_filling_tmp_gets_no_space_left()
    {
        var body = await AttackAsync("tmp-fill");
        Assert.Contains("No space left on device", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// Guards the CPU quota that follows a function's memory (PoolOptions.MemoryMbPerCpu, 1,769 MB per CPU): the tenant's
    /// 256 MB buy 0.145 CPU once its init is over, however many processes it spins in. With the quota left at the init's
    /// full CPU once (InstancePool.LimitCpuAfterInit returning before the write), it got 1.0 CPU-second per second and
    /// this failed.
    /// </summary>
    [RootFact]
    public async Task A_tenant_spinning_the_cpu_gets_the_share_its_memory_buys()
    {
        var body = await AttackAsync("cpu-spin");
        using var result = JsonDocument.Parse(body);
        var cpu = result.RootElement.GetProperty("cpu").GetDouble();
        var wall = result.RootElement.GetProperty("wall").GetDouble();

        // 256 / 1769 = 0.145 CPU; a CFS period (100 ms) of slack at each end of the window.
        Assert.True(cpu <= (0.145 * wall) + 0.05, $"the tenant got {cpu} CPU-seconds in {wall} s ({cpu / wall:0.00} CPU), more than its 0.145");
        // The floor only shows the tenant ran (the bound above is what a missing quota breaks): at load 6-20 it got
        // 0.05-0.11 CPU-seconds, so a floor of 0.05 failed by chance under load.
        Assert.True(cpu >= 0.02, $"the tenant got almost no CPU ({cpu} s in {wall} s): the quota is not what stopped it");
    }

    /// <summary>
    /// Guards the CPU weight that follows a function's share (cpu.shares = 1024 per CPU, CgroupV1.SharesFor, written with
    /// the quota): a tenant whose 1,062 MB buy 0.6 CPU and a victim naming <c>cpus: 1</c> spin on the same core, both
    /// pinned to CPU 0, for 3 s. The tenant's quota (0.6) does not bind at a half, so only the weights split the core:
    /// 615 against 1024 gives the tenant 0.6 of the victim's CPU time, where equal weights give both the same. With the
    /// weight's write removed once (the tenant kept its init's 1024), the split was even and this failed.
    /// </summary>
    [RootFact]
    public async Task A_tenant_sharing_a_core_with_a_victim_gets_the_weight_of_its_share()
    {
        const string Spin = """
            import os, time

            def handler(event, context):
                os.sched_setaffinity(0, {0})
                while time.time() < event.get("start", 0):
                    time.sleep(0.005)
                before, until = time.thread_time(), time.monotonic() + event.get("seconds", 0)
                while time.monotonic() < until:
                    pass
                return {"cpu": time.thread_time() - before}
            """;
        var tenant = new HostileTenant("weight-tenant", "spins on CPU 0", "name: weight-tenant\nhandler: handler.handler\nio: nexus\ntimeout: 30\nmemory: 1062\n", Spin, "{}", null);
        var victim = new HostileTenant("weight-victim", "spins on CPU 0", "name: weight-victim\nhandler: handler.handler\nio: nexus\ntimeout: 30\ncpus: 1\n", Spin, "{}", null);
        foreach (var function in new[] { tenant, victim })
        {
            using var package = function.Package();
            await fixture.Node.DeployAsync(package, CancellationToken.None);

            // Warm: the measured calls then start together on ready instances, the tenant's already at its share.
            var (warm, body) = await fixture.InvokeAsync(function.Name, "{}");
            Assert.True(warm.IsSuccessStatusCode && !warm.Headers.Contains("X-Amz-Function-Error"), $"{function.Name}: {body}");
        }

        var start = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0) + 1;
        var spin = System.FormattableString.Invariant($$"""{"start": {{start}}, "seconds": 3}""");
        var runs = await Task.WhenAll(fixture.InvokeAsync(tenant.Name, spin), fixture.InvokeAsync(victim.Name, spin));
        var cpu = runs.Select(r =>
        {
            Assert.True(r.Response.IsSuccessStatusCode && !r.Response.Headers.Contains("X-Amz-Function-Error"), r.Body);
            using var result = JsonDocument.Parse(r.Body);
            return result.RootElement.GetProperty("cpu").GetDouble();
        }).ToArray();

        // Expected 615 / 1024 = 0.60; equal weights give 1.0.
        var ratio = cpu[0] / cpu[1];
        output.WriteLine($"CPU 0 in 3 s: tenant {cpu[0]:0.000} s, victim {cpu[1]:0.000} s ({ratio:0.00})");
        Assert.True(ratio < 0.8, $"tenant {cpu[0]:0.000} s against victim {cpu[1]:0.000} s of CPU 0 ({ratio:0.00}): the core was not split by weight");
        // Under load the pair gets what /nexus gets of CPU 0: at load 16-20 the victim had 0.20 s and the split was still
        // 0.59-0.62, with the weight's write removed 0.95-1.02 at 0.16 s (2026-12-05, docs/reliability.md); 0.3 s failed there.
        Assert.True(cpu[1] >= 0.1, $"the victim got almost no CPU ({cpu[1]:0.000} s in 3 s): nothing was compared");
    }

    /// <summary>
    /// Guards the node's own cpu cgroup (<c>nexus-node</c>, cpu.shares 10240, NodeCpuGroup; docs/node.md#cpu): every
    /// thread of the node (this process) is in it, and a process of the node's group (a child of the node, as every
    /// helper it spawns is) and a tenant naming <c>cpus: 2</c> (weight 2048, the most a function gets here) spin on the
    /// same core, both pinned to CPU 0, for 3 s. Only the weights at the top of the cpu hierarchy split the core: the
    /// node's group (10240) against the instances' parent (1024, whatever the tenant's own weight), about 10:1. Without
    /// the group the node competes as its session's autogroup (1024) against that parent, about 1:1. With the node's
    /// move into its group removed once (NexusNode.EnterCpuGroup returning at once), this failed.
    /// </summary>
    [RootFact]
    public async Task The_node_outweighs_a_tenant_spinning_on_its_core()
    {
        const string Spin = """
            import os, sys, time

            def spin(start, seconds):
                os.sched_setaffinity(0, {0})
                while time.time() < start:
                    time.sleep(0.005)
                before, until = time.thread_time(), time.monotonic() + seconds
                while time.monotonic() < until:
                    pass
                return time.thread_time() - before

            def handler(event, context):
                return {"cpu": spin(event.get("start", 0), event.get("seconds", 0))}

            if __name__ == "__main__":
                print(spin(float(sys.argv[1]), float(sys.argv[2])))
            """;
        var tenant = new HostileTenant("node-weight-tenant", "spins on CPU 0", "name: node-weight-tenant\nhandler: handler.handler\nio: nexus\ntimeout: 30\ncpus: 2\n", Spin, "{}", null);
        using (var package = tenant.Package())
        {
            await fixture.Node.DeployAsync(package, CancellationToken.None);
        }

        var (warm, warmBody) = await fixture.InvokeAsync(tenant.Name, "{}");
        Assert.True(warm.IsSuccessStatusCode && !warm.Headers.Contains("X-Amz-Function-Error"), warmBody);

        var start = (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0) + 1;
        var node = new ProcessStartInfo("python3") { RedirectStandardOutput = true };
        foreach (var argument in new[] { "-c", Spin, start.ToString(CultureInfo.InvariantCulture), "3" })
        {
            node.ArgumentList.Add(argument);
        }

        using var nodeSpinner = Process.Start(node)!;
        var (response, body) = await fixture.InvokeAsync(tenant.Name, System.FormattableString.Invariant($$"""{"start": {{start}}, "seconds": 3}"""));
        var nodeCpu = double.Parse((await nodeSpinner.StandardOutput.ReadToEndAsync()).Trim(), CultureInfo.InvariantCulture);
        await nodeSpinner.WaitForExitAsync();
        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), body);
        using var result = JsonDocument.Parse(body);
        var tenantCpu = result.RootElement.GetProperty("cpu").GetDouble();

        // Expected about 10240 / 1024 = 10; the node's group left out, about 1.
        output.WriteLine($"CPU 0 in 3 s: node group {nodeCpu:0.000} s, tenant {tenantCpu:0.000} s ({nodeCpu / tenantCpu:0.00}:1)");
        Assert.True(tenantCpu >= 0.05, $"the tenant got almost no CPU ({tenantCpu:0.000} s in 3 s): nothing was compared");
        Assert.True(nodeCpu / tenantCpu > 3, $"node group {nodeCpu:0.000} s against tenant {tenantCpu:0.000} s of CPU 0 ({nodeCpu / tenantCpu:0.00}): the node's weight did not count");

        var group = Path.Combine("/sys/fs/cgroup/cpu", NodeCpuGroup.DefaultName);
        Assert.Equal(NodeCpuGroup.DefaultShares.ToString(CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(group, "cpu.shares")).Trim());
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            string cpuGroup;
            try
            {
                cpuGroup = NodeCpuGroup.CpuCgroupOf(Path.Combine(task, "cgroup"));
            }
            catch (IOException)
            {
                continue; // the thread ended between the listing and the read
            }

            Assert.True(cpuGroup == "/" + NodeCpuGroup.DefaultName, $"node thread {Path.GetFileName(task)} is in cpu cgroup {cpuGroup}");
        }
    }

    /// <summary>
    /// Guards the node threads' short EEVDF slice (NodeThreadSlices, docs/node.md#cpu): every thread of the node process,
    /// thread-pool workers started after the node included, runs at the 0.1 ms slice request as the kernel keeps it
    /// (/proc/&lt;pid&gt;/task/&lt;tid&gt;/sched, se.slice), and a tenant's sandbox, started by the node, does not inherit it
    /// (reset-on-fork: a tenant must not get the node's preemption; it runs at the sandboxes' own longer request, next
    /// test). With the node's call of NodeThreadSlices removed once, every thread read the default 1.4 ms and this failed.
    /// </summary>
    [RootFact]
    public async Task Node_threads_run_at_a_short_slice_that_their_sandboxes_do_not_inherit()
    {
        const string ReadSlice = """
            def handler(event, context):
                with open("/proc/self/sched") as f:
                    return {"slice": int(next(l for l in f if l.startswith("se.slice")).split(":")[1])}
            """;
        var tenant = new HostileTenant("slice-tenant", "reads its own slice", "name: slice-tenant\nhandler: handler.handler\nio: nexus\ntimeout: 10\n", ReadSlice, "{}", null);
        using (var package = tenant.Package())
        {
            await fixture.Node.DeployAsync(package, CancellationToken.None);
        }

        var (response, body) = await fixture.InvokeAsync(tenant.Name, "{}");
        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), body);
        using var result = JsonDocument.Parse(body);
        var tenantSlice = result.RootElement.GetProperty("slice").GetInt64();
        Assert.True(tenantSlice > 100_000, $"the tenant runs at the node's {tenantSlice} ns slice");

        // Workers the thread pool starts now are set by the node's next sweep, within a second.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => Thread.Sleep(200))));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        var slices = NodeThreadSliceNanoseconds();
        output.WriteLine($"{slices.Count} node threads, slices: {string.Join(", ", slices.Distinct())}; the tenant's: {tenantSlice}");
        Assert.All(slices, slice => Assert.Equal(100_000, slice));
    }

    /// <summary>
    /// Guards the sandboxes' slice request (PoolOptions.SandboxSliceNanoseconds, docs/node.md#cpu): once its init is
    /// over, a tenant's runtime runs at 0.2 ms, and so does a process it starts afterwards (inherited, no
    /// reset-on-fork), so that a waking neighbour at the same request waits behind a throttled tenant for at most 0.2 ms
    /// of protected slice, not the default 1.4 ms and the 4 ms tick after it. With the pool's call of SetSliceAfterInit
    /// removed once, both read the default 1.4 ms and this failed.
    /// </summary>
    [RootFact]
    public async Task A_ready_sandbox_and_the_processes_it_starts_run_at_the_sandbox_slice()
    {
        const string ReadSlices = """
            import os

            def own_slice():
                with open("/proc/self/sched") as f:
                    return int(next(l for l in f if l.startswith("se.slice")).split(":")[1])

            def handler(event, context):
                read, write = os.pipe()
                child = os.fork()
                if child == 0:
                    os.write(write, str(own_slice()).encode())
                    os._exit(0)
                os.close(write)
                child_slice = int(os.read(read, 64))
                os.waitpid(child, 0)
                return {"slice": own_slice(), "child": child_slice}
            """;
        var tenant = new HostileTenant("slice-child", "reads its own slice and its child's", "name: slice-child\nhandler: handler.handler\nio: nexus\ntimeout: 10\nmemory: 256\n", ReadSlices, "{}", null);
        using (var package = tenant.Package())
        {
            await fixture.Node.DeployAsync(package, CancellationToken.None);
        }

        var (response, body) = await fixture.InvokeAsync(tenant.Name, "{}");
        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), body);
        output.WriteLine(body);
        using var result = JsonDocument.Parse(body);
        Assert.Equal(200_000, result.RootElement.GetProperty("slice").GetInt64());
        Assert.Equal(200_000, result.RootElement.GetProperty("child").GetInt64());
    }

    /// <summary>
    /// Guards the cgroup memory limit, its report, and who kills: the node stops the tenant at its limit (OomWatcher), not
    /// the kernel's OOM killer, whose report on this machine's serial console holds a CPU with interrupts off for 3-9 ms
    /// (docs/reliability.md, "memory-hog"). The kernel's count of OOM kills (/proc/vmstat oom_kill, the whole machine's)
    /// must not move during the attack. With the kernel's killer left on once (the watcher's write of memory.oom_control
    /// removed) the count moved by one and this failed. The limit itself was not removed: the tenant would then take the
    /// host's memory.
    /// </summary>
    [RootFact]
    public async Task A_tenant_allocating_past_its_memory_is_stopped_by_the_node_and_reported_out_of_memory()
    {
        var kernelKills = KernelOomKills();
        await AttackAsync("memory-hog");
        Assert.Equal(kernelKills, KernelOomKills());
    }

    /// <summary>
    /// Guards the coalescing doorbell (an eventfd counter; one empty drain per wake): 20,000 rings in 2 s cost the node a
    /// few thousand empty drains, and the victim is served throughout. No defence was removed for this one: the eventfd
    /// is the channel's only doorbell.
    /// </summary>
    [RootFact]
    public async Task A_doorbell_storm_leaves_the_node_serving()
    {
        var body = await AttackAsync("doorbell-storm");
        using var result = JsonDocument.Parse(body);
        Assert.True(result.RootElement.GetProperty("rang").GetInt32() >= 15_000, body);
    }

    /// <summary>
    /// Guards the submission-tail check (HostChannel.DrainSubmissions: a tail more than a ring ahead of the host's head
    /// closes the channel, and the node stops the instance as a runtime that exited, naming it). The tenant overwrites
    /// its region's first MiB, the host's own ring positions included (which the host never reads back), and rings.
    /// </summary>
    [RootFact]
    public async Task A_tenant_scribbling_over_its_region_is_stopped_and_reported_as_an_exited_runtime()
    {
        var body = await AttackAsync("scribble");
        Assert.Contains("submission tail", body, StringComparison.Ordinal);
    }

    private Task<string> AttackAsync(string name) => HostileAttack.RunAsync(fixture, HostileTenants.Get(name), HostileTenants.Victim, output);

    private static long KernelOomKills() =>
        long.Parse(File.ReadLines("/proc/vmstat").Single(line => line.StartsWith("oom_kill ", StringComparison.Ordinal))["oom_kill ".Length..], CultureInfo.InvariantCulture);

    private static List<long> NodeThreadSliceNanoseconds()
    {
        var slices = new List<long>();
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            try
            {
                var line = File.ReadLines(Path.Combine(task, "sched")).First(l => l.StartsWith("se.slice", StringComparison.Ordinal));
                slices.Add(long.Parse(line.Split(':')[1], CultureInfo.InvariantCulture));
            }
            catch (IOException)
            {
                // The thread ended between the listing and the read.
            }
        }

        return slices;
    }
}
