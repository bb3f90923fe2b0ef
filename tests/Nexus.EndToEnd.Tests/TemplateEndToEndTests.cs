// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Bench;
using Nexus.Functions;
using Nexus.Node;
using Nexus.Sandbox.Oci;
using Nexus.Sandbox.Template;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>Cold starts forked from a pre-initialized template, on a real node with runc.</summary>
public sealed class TemplateEndToEndTests
{
    [RootFact]
    public async Task Cold_starts_fork_from_one_template_and_each_instance_is_contained_on_its_own()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-template-").FullName;
        var log = new List<string>();
        var driver = TemplateEndToEndTests.LoggingDriver(log);
        try
        {
            await using var node = await NexusNode.StartAsync(NodeFixture.Options(home), new NodeComponents { Driver = driver });
            var folder = Path.Combine(NodeFixture.Examples, "hello-s3");
            await SeedAsync(node);
            using (var package = FunctionVariant.Package(folder, "tpl-hello", IoMode.Nexus))
            {
                await node.DeployAsync(package, CancellationToken.None);
            }

            Assert.True(node.TryGetFunction("tpl-hello", out var hello));
            var payload = await File.ReadAllBytesAsync(Path.Combine(folder, "event.json"));

            // Two at once: both are cold starts, both come from the same template.
            var outcomes = await Task.WhenAll(
                node.InvokeAsync(hello, payload, "t1", CancellationToken.None),
                node.InvokeAsync(hello, payload, "t2", CancellationToken.None));
            Assert.All(outcomes, o => Assert.True(o.Outcome == "success", Encoding.UTF8.GetString(o.Result.Payload.Span)));
            Assert.All(outcomes, o => Assert.True(o.ColdStart));
            Assert.NotEqual(outcomes[0].InstanceId, outcomes[1].InstanceId);
            var stats = driver.Stats;
            Assert.True(stats.TemplatesStarted == 1, string.Join("\n", log));
            Assert.Equal(2, stats.Forked);
            Assert.Equal(0, stats.Fallbacks);

            // Each instance has its own cgroup: memory and CPU are its own.
            var usage = node.ReadInstanceUsage(outcomes[0].InstanceId);
            Assert.NotNull(usage);
            Assert.True(usage.Value.Memory.PssBytes > 0);
            Assert.True(usage.Value.Cpu > TimeSpan.Zero);
            Assert.True(Directory.Exists($"/sys/fs/cgroup/memory/nexus/{outcomes[0].InstanceId}"));

            // The template's own share of the pages it shares with its instances is node memory too (bench density
            // counts it): the node reads it from the template's cgroup, apart from its instances'.
            var template = Assert.Single(node.ReadTemplateUsage());
            Assert.DoesNotContain(template.SandboxId, outcomes.Select(o => o.InstanceId));
            Assert.True(template.Memory.PssBytes > 1 << 20, $"template PSS {template.Memory.PssBytes} B");
            Assert.True(template.Cpu > TimeSpan.Zero);

            // The operator sees it in the node's status, named by the revision it forks, apart from the instances.
            var listed = Assert.Single(node.Status().Templates!);
            Assert.Equal(new TemplateStatus("tpl-hello", hello.Revision, Current: true, LiveInstances: 2, listed.PssBytes), listed);
            Assert.True(listed.PssBytes > 1 << 20);

            // An instance that dies, runs out of memory or times out is replaced by a new fork; the template lives on.
            // A whole CPU: at the share 64 MiB buys (0.036 CPU) touching 64 MiB takes seconds on a loaded machine, and
            // the 2 s timeout would end the allocation before the OOM killer does.
            await DeployAsync(node, "tpl-faults", "memory: 64\ncpus: 1\ntimeout: 2\n", """
                import os, sys, time
                print("tpl-faults module loaded", flush=True)
                def handler(event, context):
                    if event.get("do") == "exit":
                        os._exit(3)
                    if event.get("do") == "sys.exit":
                        sys.exit(4)
                    if event.get("do") == "oom":
                        hog = [bytearray(1 << 20) for _ in range(256)]
                    if event.get("do") == "hang":
                        time.sleep(60)
                    return {"pid": os.getpid(), "stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")}
                """);
            Assert.True(node.TryGetFunction("tpl-faults", out var faults));
            var crashed = await node.InvokeAsync(faults, """{"do":"exit"}"""u8.ToArray(), "f1", CancellationToken.None);
            Assert.Equal("crashed", crashed.Outcome);

            // What the module printed as it loaded is the first cold start's output, in the function's log before its
            // START, as on Lambda (it went to the node's log only, found by a new user's test, 2026-12-06).
            var functionLog = await NodeFixture.ReadLogUntilAsync(Path.Combine(home, "logs", "tpl-faults.log"), "REPORT RequestId: f1");
            var loaded = Array.FindIndex(functionLog, l => l.Contains(" f1 tpl-faults module loaded", StringComparison.Ordinal));
            Assert.True(loaded >= 0 && loaded < Array.FindIndex(functionLog, l => l.Contains("START RequestId: f1", StringComparison.Ordinal)), string.Join("\n", functionLog));

            // sys.exit(4) in a forked instance exits with status 4, as a fresh Python does (it said 1).
            var exited = await node.InvokeAsync(faults, """{"do":"sys.exit"}"""u8.ToArray(), "f1b", CancellationToken.None);
            Assert.Equal("crashed", exited.Outcome);
            Assert.Contains("exit status 4", Encoding.UTF8.GetString(exited.Result.Payload.Span), StringComparison.Ordinal);
            var oom = await node.InvokeAsync(faults, """{"do":"oom"}"""u8.ToArray(), "f2", CancellationToken.None);
            Assert.Equal("oom", oom.Outcome);
            var hung = await node.InvokeAsync(faults, """{"do":"hang"}"""u8.ToArray(), "f3", CancellationToken.None);
            Assert.Equal("timeout", hung.Outcome);
            var fine = await node.InvokeAsync(faults, "{}"u8.ToArray(), "f4", CancellationToken.None);
            Assert.Equal("success", fine.Outcome);
            Assert.Contains(fine.InstanceId, Encoding.UTF8.GetString(fine.Result.Payload.Span), StringComparison.Ordinal);
            Assert.Equal(2, driver.Stats.TemplatesStarted);
            Assert.Equal(0, driver.Stats.Fallbacks);
            Assert.False(Directory.Exists($"/sys/fs/cgroup/memory/nexus/{crashed.InstanceId}"), "the crashed instance's cgroup is left behind");

            // A module that takes longer than the init limit to load: the template is given up at the limit, the
            // instance started afresh goes on loading within the invocation's timeout (as Lambda retries such an init
            // at the first invocation) and serves; the next cold start goes straight to a container, whose init passes
            // the limit the same way. The handler gets what is left of the 30 s (its deadline says so). Before, both
            // failed at the limit, where Lambda serves them.
            await DeployAsync(node, "tpl-slow", "timeout: 30\n", """
                import time
                time.sleep(12)
                def handler(event, context):
                    return context.get_remaining_time_in_millis()
                """);
            Assert.True(node.TryGetFunction("tpl-slow", out var slow));
            foreach (var id in new[] { "s1", "s2" })
            {
                await node.StopIdleInstancesAsync("tpl-slow");
                var served = await node.InvokeAsync(slow, "{}"u8.ToArray(), id, CancellationToken.None);
                Assert.True(served.ColdStart, id);
                Assert.True(served.Outcome == "success", Encoding.UTF8.GetString(served.Result.Payload.Span));
                var remaining = int.Parse(Encoding.UTF8.GetString(served.Result.Payload.Span), System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(remaining is > 10_000 and < 28_000, $"{id}: {remaining} ms left; log: {Encoding.UTF8.GetString(served.LogTail)}");
            }

            // A module that raises at import: its first cold start tries a template, which fails, and the instance
            // started afresh reports the error; later cold starts go straight to a container (each built a failing
            // template first: two sandbox starts a call, found by an operator's review).
            await DeployAsync(node, "tpl-broken", "", "raise RuntimeError('broken at import')\n");
            Assert.True(node.TryGetFunction("tpl-broken", out var broken));
            var fallbacksBefore = driver.Stats.Fallbacks;
            foreach (var id in new[] { "b1", "b2", "b3" })
            {
                var failed = await node.InvokeAsync(broken, "{}"u8.ToArray(), id, CancellationToken.None);
                Assert.Contains("broken at import", Encoding.UTF8.GetString(failed.Result.Payload.Span), StringComparison.Ordinal);
            }

            Assert.Equal(fallbacksBefore + 1, driver.Stats.Fallbacks);
            lock (log)
            {
                Assert.Single(log, l => l.Contains("of tpl-broken-", StringComparison.Ordinal) && l.Contains("could not load the handler", StringComparison.Ordinal));
            }

            // A redeploy retires the revision: its template stops once its last instance is gone, listed as retired
            // until then (a busy instance holds it) beside the new revision's.
            const string Held = """
                import time
                def handler(event, context):
                    time.sleep(event.get("sleep", 0))
                    return "held"
                """;
            await DeployAsync(node, "tpl-held", "timeout: 30\n", Held);
            Assert.True(node.TryGetFunction("tpl-held", out var held));
            var holding = node.InvokeAsync(held, """{"sleep": 4}"""u8.ToArray(), "h1", CancellationToken.None);
            while (!node.Status().Instances.Any(i => i.Function == "tpl-held" && i.Busy == 1))
            {
                await Task.Delay(20);
            }

            await DeployAsync(node, "tpl-held", "timeout: 30\n", Held);
            Assert.True(node.TryGetFunction("tpl-held", out var heldAgain));
            Assert.NotEqual(held.Revision, heldAgain.Revision);
            Assert.Equal("success", (await node.InvokeAsync(heldAgain, "{}"u8.ToArray(), "h2", CancellationToken.None)).Outcome);
            var heldTemplates = node.Status().Templates!.Where(t => t.Function == "tpl-held").ToList();
            Assert.Contains(heldTemplates, t => t.Revision == held.Revision && !t.Current && t.LiveInstances == 1);
            Assert.Contains(heldTemplates, t => t.Revision == heldAgain.Revision && t.Current);
            Assert.Equal("success", (await holding).Outcome);

            lock (log)
            {
                Assert.Single(log, l => l.Contains("of tpl-slow-", StringComparison.Ordinal) && l.Contains("was not ready within 10 s", StringComparison.Ordinal));
                Assert.Single(log, l => l.Contains("the template of tpl-slow-", StringComparison.Ordinal) && l.Contains("could not fork it", StringComparison.Ordinal));
            }
        }
        finally
        {
            await driver.DisposeAsync();
            Directory.Delete(home, recursive: true);
        }

        // Stopping the driver stops every template: no template container is left.
        var list = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("runc", ["--root", "/run/nexus/runc", "list", "-q"]) { RedirectStandardOutput = true })!;
        var containers = await list.StandardOutput.ReadToEndAsync();
        await list.WaitForExitAsync();
        Assert.DoesNotContain(containers.Split('\n'), c => c.StartsWith(NexusNode.InstancePrefix + "t", StringComparison.Ordinal));
    }

    /// <summary>The node's template driver over runc, its log lines kept in <paramref name="log"/>.</summary>
    internal static TemplateSandboxDriver LoggingDriver(List<string> log) => new(
        new OciSandboxDriver(new OciDriverOptions { InstancePrefix = NexusNode.InstancePrefix }),
        new TemplateDriverOptions { InstancePrefix = NexusNode.InstancePrefix, Log = line => { lock (log) { log.Add(line); } } });

    internal static async Task SeedAsync(NexusNode node)
    {
        var seed = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(HostRequirements.DebianPython)
        {
            ArgumentList = { Path.Combine(NodeFixture.Examples, "seed_inputs.py"), "--endpoint", node.StoreAddress.ToString().TrimEnd('/'), "--access-key", node.AdminKey.AccessKeyId, "--secret-key", node.AdminKey.SecretAccessKey },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var errors = seed.StandardError.ReadToEndAsync();
        await seed.StandardOutput.ReadToEndAsync();
        await seed.WaitForExitAsync();
        Assert.True(seed.ExitCode == 0, await errors);
    }

    private static Task DeployAsync(NexusNode node, string name, string extra, string handler) =>
        NodeFixture.DeployAsync(node, $"name: {name}\nhandler: handler.handler\nio: nexus\n{extra}", handler);
}
