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
        var driver = new TemplateSandboxDriver(
            new OciSandboxDriver(new OciDriverOptions { InstancePrefix = NexusNode.InstancePrefix }),
            new TemplateDriverOptions { InstancePrefix = NexusNode.InstancePrefix, Log = line => { lock (log) { log.Add(line); } } });
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

            // An instance that dies, runs out of memory or times out is replaced by a new fork; the template lives on.
            // A whole CPU: at the share 64 MiB buys (0.036 CPU) touching 64 MiB takes seconds on a loaded machine, and
            // the 2 s timeout would end the allocation before the OOM killer does.
            await DeployAsync(node, "tpl-faults", "memory: 64\ncpus: 1\ntimeout: 2\n", """
                import os, time
                def handler(event, context):
                    if event.get("do") == "exit":
                        os._exit(3)
                    if event.get("do") == "oom":
                        hog = [bytearray(1 << 20) for _ in range(256)]
                    if event.get("do") == "hang":
                        time.sleep(60)
                    return {"pid": os.getpid(), "stream": os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")}
                """);
            Assert.True(node.TryGetFunction("tpl-faults", out var faults));
            var crashed = await node.InvokeAsync(faults, """{"do":"exit"}"""u8.ToArray(), "f1", CancellationToken.None);
            Assert.Equal("crashed", crashed.Outcome);
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

    private static async Task DeployAsync(NexusNode node, string name, string extra, string handler)
    {
        var dir = Directory.CreateTempSubdirectory("nexus-fn-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "function.yaml"), $"name: {name}\nhandler: handler.handler\nio: nexus\n{extra}");
            await File.WriteAllTextAsync(Path.Combine(dir, "handler.py"), handler);
            await node.DeployAsync(new MemoryStream(NodeFixture.Zip(dir)), CancellationToken.None);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
