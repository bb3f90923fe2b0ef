// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// A <c>sandbox: microvm</c> function on a real node: the freestanding runtime guest (guest/test/runtime.c) in a
/// nexus-vmm process per instance, restored from a ready snapshot, with the node's channel, backend, write-back and store.
/// </summary>
public sealed class MicrovmEndToEndTests
{
    internal const string MicrovmRun = "/run/nexus/microvm";

    [RootFact(runc: true, kvm: true)]
    public async Task A_microvm_function_runs_cold_from_its_snapshot_then_warm_and_crashes_and_hangs_are_reported()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-microvm-").FullName;
        var vmmPids = new HashSet<int>();
        try
        {
            var options = NodeFixture.Options(home) with { MicrovmKernel = TestGuests.Build("runtime"), MicrovmGuest = "freestanding" };
            await using (var node = await NexusNode.StartAsync(options))
            {
                using var s3 = new AmazonS3Client(new BasicAWSCredentials(node.AdminKey.AccessKeyId, node.AdminKey.SecretAccessKey), new AmazonS3Config
                {
                    ServiceURL = node.StoreAddress.ToString(),
                    ForcePathStyle = true,
                    AuthenticationRegion = "us-east-1",
                    UseHttp = true,
                });
                await s3.PutBucketAsync("mvm-data");
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = "mvm-data", Key = "in/a.txt", ContentBody = "cold start input" });
                await s3.PutObjectAsync(new PutObjectRequest { BucketName = "mvm-data", Key = "in/b.txt", ContentBody = "warm input" });
                await DeployAsync(node, "mvm-upper", timeoutSeconds: 2);
                Assert.True(node.TryGetFunction("mvm-upper", out var function));
                Assert.Equal("microvm", function.Manifest.Sandbox);

                // nexus ls: the function is listed with its sandbox.
                using (var http = new HttpClient { BaseAddress = node.ApiAddress })
                {
                    http.DefaultRequestHeaders.Add(KeyPair.ManagementTokenHeader, node.AdminKey.ManagementToken());
                    var list = JsonNode.Parse(await http.GetStringAsync("nexus/v1/functions"))!["functions"]!.AsArray();
                    Assert.Equal("microvm", list.Single(f => f!["name"]!.ToString() == "mvm-upper")!["sandbox"]!.ToString());
                }

                var cold = await node.InvokeAsync(function, Event("in/a.txt", "out/a.txt"), "m1", CancellationToken.None);
                Assert.True(cold.Outcome == "success", Encoding.UTF8.GetString(cold.Result.Payload.Span) + "\n" + Encoding.UTF8.GetString(cold.LogTail));
                Assert.True(cold.ColdStart);
                RecordVmm(cold.InstanceId, vmmPids);
                using (var result = JsonDocument.Parse(cold.Result.Payload))
                {
                    Assert.Equal(16, result.RootElement.GetProperty("Bytes").GetInt32());
                }

                var warm = await node.InvokeAsync(function, Event("in/b.txt", "out/b.txt"), "m2", CancellationToken.None);
                Assert.True(warm.Outcome == "success", Encoding.UTF8.GetString(warm.Result.Payload.Span));
                Assert.False(warm.ColdStart);
                Assert.Equal(cold.InstanceId, warm.InstanceId);

                // The PUTs were acknowledged once spooled (writeback: async) and reach the store after.
                Assert.Equal("COLD START INPUT", await GetEventuallyAsync(s3, "out/a.txt"));
                Assert.Equal("WARM INPUT", await GetEventuallyAsync(s3, "out/b.txt"));

                // A guest that crashes (triple fault) or hangs is reported, its VM removed, and the next call is served.
                var crashed = await node.InvokeAsync(function, Event("in/a.txt", "out/x.txt", "crash"), "m3", CancellationToken.None);
                Assert.Equal("crashed", crashed.Outcome);
                Assert.Equal("Runtime.ExitError", crashed.Result.ErrorType);
                Assert.Contains("Shutdown", Encoding.UTF8.GetString(crashed.LogTail), StringComparison.Ordinal);
                var hung = await node.InvokeAsync(function, Event("in/a.txt", "out/x.txt", "hang"), "m4", CancellationToken.None);
                RecordVmm(hung.InstanceId, vmmPids);
                Assert.Equal("timeout", hung.Outcome);
                Assert.Equal("Sandbox.Timedout", hung.Result.ErrorType);
                var again = await node.InvokeAsync(function, Event("in/b.txt", "out/c.txt"), "m5", CancellationToken.None);
                Assert.True(again.Outcome == "success", Encoding.UTF8.GetString(again.Result.Payload.Span));
                Assert.True(again.ColdStart);
                RecordVmm(again.InstanceId, vmmPids);
                Assert.Equal("WARM INPUT", await GetEventuallyAsync(s3, "out/c.txt"));
                Assert.Single(Directory.EnumerateDirectories(Path.Combine(MicrovmRun, "snapshots"), NexusNode.InstancePrefix + "-mvm-upper-*"));
            }

            // Nothing is left behind: no VMM process, instance folder or snapshot.
            Assert.NotEmpty(vmmPids);
            Assert.All(vmmPids, pid => Assert.False(Directory.Exists($"/proc/{pid}/task"), $"VMM {pid} outlived the node"));
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(MicrovmRun, "instances"), NexusNode.InstancePrefix + "*"));
            Assert.Empty(Directory.EnumerateDirectories(Path.Combine(MicrovmRun, "snapshots"), NexusNode.InstancePrefix + "*"));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    internal static byte[] Event(string key, string outKey, string? action = null) => Encoding.UTF8.GetBytes(
        $$"""{"Bucket":"mvm-data","Key":"{{key}}","OutKey":"{{outKey}}"{{(action is null ? "" : $",\"Action\":\"{action}\"")}}}""");

    /// <summary>The VMM of a live instance, from its pid file.</summary>
    private static void RecordVmm(string instanceId, HashSet<int> pids)
    {
        var pidFile = Path.Combine(MicrovmRun, "instances", instanceId, "pid");
        if (File.Exists(pidFile))
        {
            pids.Add(int.Parse(File.ReadAllText(pidFile), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    internal static async Task<string> GetEventuallyAsync(AmazonS3Client s3, string key)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                using var response = await s3.GetObjectAsync("mvm-data", key);
                using var reader = new StreamReader(response.ResponseStream);
                return await reader.ReadToEndAsync();
            }
            catch (AmazonS3Exception e) when (e.StatusCode == System.Net.HttpStatusCode.NotFound && attempt < 100)
            {
                await Task.Delay(100);
            }
        }
    }

    /// <summary>Deploys a <c>sandbox: microvm</c> function with read-write access to mvm-data (the runtime guest serves it).</summary>
    internal static async Task DeployAsync(NexusNode node, string name, int timeoutSeconds, int memoryMb = 64)
    {
        var dir = Directory.CreateTempSubdirectory("nexus-fn-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "function.yaml"), $"""
                name: {name}
                handler: handler.handler
                io: nexus
                sandbox: microvm
                memory: {memoryMb}
                timeout: {timeoutSeconds}
                storage:
                  - bucket: mvm-data
                    access: readwrite
                inputs:
                  - bucket: $.Bucket
                    key: $.Key
                """);

            // The runtime guest is the whole function in a microVM here; the handler a Linux guest would import.
            await File.WriteAllTextAsync(Path.Combine(dir, "handler.py"), "def handler(event, context):\n    raise RuntimeError('runs in the freestanding guest')\n");
            await node.DeployAsync(new MemoryStream(NodeFixture.Zip(dir)), CancellationToken.None);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
