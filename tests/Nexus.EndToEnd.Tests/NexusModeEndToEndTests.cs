// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Backend.WriteBack;
using Nexus.Bench;
using Nexus.Functions;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// Nexus mode in real runc sandboxes: the unchanged examples run with the stand-in boto3 over the channel, and
/// the sandbox holds no credentials, no network but loopback, and none of the real SDK.
/// </summary>
public sealed class NexusModeEndToEndTests(NodeFixture fixture) : IClassFixture<NodeFixture>
{
    public static TheoryData<string> Examples()
    {
        var data = new TheoryData<string>();
        foreach (var dir in Directory.EnumerateDirectories(NodeFixture.Examples).Order())
        {
            if (File.Exists(Path.Combine(dir, "function.yaml")))
            {
                data.Add(Path.GetFileName(dir));
            }
        }

        return data;
    }

    [RootTheory]
    [MemberData(nameof(Examples))]
    public async Task ExampleRunsUnchangedInNexusMode(string example)
    {
        var folder = Path.Combine(NodeFixture.Examples, example);
        var name = example + "-nexus";
        using (var package = FunctionVariant.Package(folder, name, IoMode.Nexus))
        {
            var function = await fixture.Node.DeployAsync(package, CancellationToken.None);
            Assert.Equal(IoMode.Nexus, function.Manifest.Io);
        }

        var payload = await File.ReadAllTextAsync(Path.Combine(folder, "event.json"));
        var (response, body) = await fixture.InvokeAsync(name, payload);

        Assert.True(response.IsSuccessStatusCode, $"{name}: {response.StatusCode} {body}");
        Assert.False(response.Headers.Contains("X-Amz-Function-Error"), $"{name}: {body}");
        await fixture.OutputObjectAsync(body, payload);
    }

    [RootFact]
    public async Task TheInputAnS3EventNamesIsPrefetchedAndTheOutputIsWrittenBack()
    {
        var folder = Path.Combine(NodeFixture.Examples, "hello-s3");
        using (var package = FunctionVariant.Package(folder, "hello-s3-async", IoMode.Nexus))
        {
            await fixture.Node.DeployAsync(package, CancellationToken.None);
        }

        // The write is read from one snapshot of the spool: it is pending or uploaded (superseded or dead-lettered when
        // something else went on), and its upload may end at any moment after the put was acknowledged. Read from two
        // scrapes (uploaded, then pending), an upload ending between them counted the write in neither (this failed).
        var payload = await File.ReadAllTextAsync(Path.Combine(folder, "event.json"));
        var writeBack = fixture.Node.WriteBack!;
        var hitsBefore = Metric("nexus_prefetch_hits_total");
        var writesBefore = AccountedWrites(writeBack.Stats);
        var (response, body) = await fixture.InvokeAsync("hello-s3-async", payload);
        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), body);

        // A hit is counted before the prefetched copy is lent to the sandbox, so before the function's result exists.
        Assert.True(
            Metric("nexus_prefetch_hits_total") == hitsBefore + 1,
            $"prefetch hits {hitsBefore} -> {Metric("nexus_prefetch_hits_total")}; misses {Metric("nexus_prefetch_misses_total")}, "
            + $"stale {Metric("nexus_prefetch_stale_total")}, skipped {Metric("nexus_prefetch_skipped_total")}, from the cache {Metric("nexus_prefetch_cached_total")}, fetched bytes {Metric("nexus_prefetch_fetched_bytes_total")}");
        var after = writeBack.Stats;
        Assert.True(AccountedWrites(after) == writesBefore + 1, $"accounted writes {writesBefore} -> {after}");
        await fixture.OutputObjectAsync(body, payload);
    }

    /// <summary>Every write the spool acknowledged is in exactly one of these.</summary>
    private static long AccountedWrites(WriteBackStats stats) => stats.Pending + stats.Uploaded + stats.Superseded + stats.DeadLetters;

    [RootFact]
    public async Task SandboxHoldsNoCredentialsNoNetworkAndNoRealSdk()
    {
        await fixture.DeployAsync("name: e2e-inspect\nhandler: handler.handler\nio: nexus\nstorage:\n  - bucket: nexus-examples\n    prefix: hello-s3/\n    access: read\n", """
            import os, sys
            def handler(event, context):
                import boto3
                boto3.client("s3").head_object(Bucket="nexus-examples", Key="hello-s3/input/hello.txt")
                environ = {}
                for pid in [p for p in os.listdir("/proc") if p.isdigit()]:
                    try:
                        with open(f"/proc/{pid}/environ", "rb") as f:
                            environ[pid] = f.read().decode(errors="replace").split("\0")
                    except OSError:
                        pass
                found = []
                for top in ["/var/task", "/tmp", "/opt/nexus", "/etc", "/root", "/home", "/run"]:
                    for root, dirs, files in os.walk(top):
                        for name in files:
                            path = os.path.join(root, name)
                            try:
                                with open(path, "rb") as f:
                                    data = f.read(1 << 20)
                            except OSError:
                                continue
                            for needle in event["secrets"]:
                                if needle.encode() in data:
                                    found.append(path)
                with open("/proc/net/dev") as f:
                    interfaces = [line.split(":")[0].strip() for line in f.readlines()[2:]]
                return {
                    "environ": environ,
                    "files_with_secrets": found,
                    "interfaces": interfaces,
                    "modules": sorted(m for m in sys.modules if m.split(".")[0] in ("urllib3", "s3transfer", "socket", "_socket", "ssl", "_ssl") or m == "http.client"),
                    "botocore_file": sys.modules["botocore"].__file__,
                }
            """);
        var secrets = new[] { fixture.Node.AdminKey.SecretAccessKey, fixture.Node.AdminKey.AccessKeyId };

        var (response, body) = await fixture.InvokeAsync("e2e-inspect", JsonSerializer.Serialize(new { secrets }));

        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), body);
        using var result = JsonDocument.Parse(body);
        var root = result.RootElement;
        var environment = root.GetProperty("environ").EnumerateObject().SelectMany(p => p.Value.EnumerateArray().Select(v => v.GetString()!)).ToList();
        Assert.NotEmpty(environment);
        Assert.DoesNotContain(environment, v => v.StartsWith("AWS_ACCESS_KEY_ID=", StringComparison.Ordinal) || v.StartsWith("AWS_SECRET_ACCESS_KEY=", StringComparison.Ordinal) || v.StartsWith("AWS_SESSION_TOKEN=", StringComparison.Ordinal));
        Assert.DoesNotContain(environment, v => secrets.Any(s => v.Contains(s, StringComparison.Ordinal)));
        Assert.Empty(root.GetProperty("files_with_secrets").EnumerateArray());
        Assert.Equal(["lo"], root.GetProperty("interfaces").EnumerateArray().Select(i => i.GetString()));
        Assert.Empty(root.GetProperty("modules").EnumerateArray());
        Assert.StartsWith("/opt/nexus/frontend/", root.GetProperty("botocore_file").GetString(), StringComparison.Ordinal);
    }

    private double Metric(string name)
    {
        var line = fixture.Node.ScrapeMetrics().Split('\n').FirstOrDefault(l => l.StartsWith(name + " ", StringComparison.Ordinal));
        return line is null ? 0 : double.Parse(line[(name.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
    }
}
