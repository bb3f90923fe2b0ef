// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using Nexus.Backend.WriteBack;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// The write-back promise against a real crash: a node process (`nexus up --foreground`) acknowledges a function's
/// writes while storage cannot take them (the bucket was deleted after the node saw it: a put to a bucket the node has
/// never seen exist is refused, as S3 refuses it), is killed with SIGKILL, and on its next start uploads every
/// acknowledged write, the last one per key.
/// </summary>
public sealed class WriteBackCrashTests
{
    private const string Bucket = "wb-late";
    private const string NeverBucket = "wb-never";

    // Fixed ports of this test's node (the e2e assembly runs its tests one at a time).
    private const int ApiPort = 29720;
    private const int StorePort = 29721;
    private const int RuntimeApiPort = 29722;

    private static readonly HttpClient s_http = new() { BaseAddress = new Uri($"http://127.0.0.1:{ApiPort}"), Timeout = TimeSpan.FromMinutes(2) };

    [RootFact]
    public async Task Acknowledged_writes_survive_kill_9_and_are_uploaded_once_by_the_next_start()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-crash-").FullName;
        Process? node = null;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(home, "node.json"), new JsonObject
            {
                ["apiUrl"] = $"http://127.0.0.1:{ApiPort}",
                ["storeUrl"] = $"http://127.0.0.1:{StorePort}",
                ["sandboxStoreUrl"] = $"http://10.77.0.1:{StorePort}",
                ["runtimeApiUrl"] = $"http://10.77.0.1:{RuntimeApiPort}",
            }.ToJsonString());

            node = await StartNodeAsync(home);
            await DeployAsync();
            await SeeThenDeleteAsync(home, Bucket);
            var writes = new (string Key, string Body)[] { ("k1", "first"), ("k1", "second"), ("k2", new string('z', 200_000)) };
            foreach (var (key, body) in writes)
            {
                await InvokeAsync(new JsonObject { ["key"] = key, ["body"] = body });
            }

            var pending = await PendingAsync();
            Assert.True(pending >= 2, $"expected the writes to wait for the bucket, {pending} pending");
            Assert.NotEmpty(SpoolJournal.Scan(Path.Combine(home, "writeback")));
            var status = await RunCliAsync("status", "--home", home);
            Assert.True(status.ExitCode == 0, status.Output);
            Assert.Matches(@"pending write-backs\s+[1-9]\d* \(\d+ bytes, \d+ failing", status.Output);

            node.Kill();
            await node.WaitForExitAsync();
            node.Dispose();

            node = await StartNodeAsync(home);
            using (var s3 = Admin(home))
            {
                await s3.PutBucketAsync(Bucket);
                var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(2);
                while (await PendingAsync() > 0)
                {
                    Assert.True(DateTime.UtcNow < deadline, "the recovered writes were not uploaded within 2 minutes");
                    await Task.Delay(200);
                }

                var listed = await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = Bucket });
                Assert.Equal(["k1", "k2"], listed.S3Objects.Select(o => o.Key).Order());
                Assert.Equal("second", await ReadAsync(s3, "k1"));
                Assert.Equal(writes[2].Body, await ReadAsync(s3, "k2"));
            }

            Assert.Empty(SpoolJournal.Scan(Path.Combine(home, "writeback")));

            // `nexus down` drains for its timeout and says what it leaves for the next start: a write to a bucket that
            // no longer exists cannot drain.
            await SeeThenDeleteAsync(home, NeverBucket);
            await InvokeAsync(new JsonObject { ["bucket"] = NeverBucket, ["key"] = "k3", ["body"] = "left" });
            Assert.Equal(1, await PendingAsync());
            var down = await RunCliAsync("down", "--home", home);
            Assert.True(down.ExitCode == 0, down.Output);
            Assert.Contains("draining 1 pending write-back(s)", down.Output, StringComparison.Ordinal);
            Assert.Contains("0 drained, 1 left", down.Output, StringComparison.Ordinal);
            Assert.True(node.HasExited, down.Output);
            Assert.Single(SpoolJournal.Scan(Path.Combine(home, "writeback")));
        }
        finally
        {
            if (node is not null)
            {
                await StopAsync(node);
            }

            Directory.Delete(home, recursive: true);
        }
    }

    // The node asks storage about a bucket before its first spooled put there and remembers that it exists: a write
    // there lands, then the bucket is deleted behind the node's back, so later writes are acknowledged and cannot land.
    private static async Task SeeThenDeleteAsync(string home, string bucket)
    {
        using var s3 = Admin(home);
        await s3.PutBucketAsync(bucket);
        await InvokeAsync(new JsonObject { ["bucket"] = bucket, ["key"] = "seen", ["body"] = "x" });
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (await PendingAsync() > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"the write to {bucket} was not uploaded within a minute");
            await Task.Delay(100);
        }

        await s3.DeleteObjectAsync(bucket, "seen");
        await s3.DeleteBucketAsync(bucket);
    }

    private static async Task InvokeAsync(JsonObject payload)
    {
        using var response = await s_http.PostAsync("/2015-03-31/functions/wb-crash/invocations", new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), text);
        Assert.Contains("\"etag\"", text, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunCliAsync(params string[] args)
    {
        var (exitCode, stdout, stderr) = await NexusCli.RunAsync(args);
        return (exitCode, stdout + stderr);
    }

    private static async Task<Process> StartNodeAsync(string home)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "nexus.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { cli, "up", "--foreground", "--home", home })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var output = new StringBuilder();
        process.OutputDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.ErrorDataReceived += (_, e) => { lock (output) { output.AppendLine(e.Data); } };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (true)
        {
            try
            {
                using var health = await s_http.GetAsync("/nexus/v1/health");
                if (health.IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (process.HasExited || DateTime.UtcNow > deadline)
            {
                lock (output)
                {
                    throw new InvalidOperationException($"the node did not come up (exited: {process.HasExited}):\n{output}");
                }
            }

            await Task.Delay(200);
        }
    }

    private static async Task StopAsync(Process node)
    {
        if (!node.HasExited)
        {
            try
            {
                await s_http.PostAsync("/nexus/v1/shutdown", null);
            }
            catch (HttpRequestException)
            {
                // Already going.
            }

            if (!node.WaitForExit(TimeSpan.FromMinutes(2)))
            {
                node.Kill();
            }
        }

        node.Dispose();
    }

    private static async Task DeployAsync()
    {
        var dir = Directory.CreateTempSubdirectory("nexus-fn-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "function.yaml"), $"name: wb-crash\nhandler: handler.handler\nio: nexus\nwriteback: async\nstorage:\n  - bucket: {Bucket}\n    access: write\n  - bucket: {NeverBucket}\n    access: write\n");
            await File.WriteAllTextAsync(Path.Combine(dir, "handler.py"), $$"""
                import boto3
                s3 = boto3.client("s3")
                def handler(event, context):
                    r = s3.put_object(Bucket=event.get("bucket", "{{Bucket}}"), Key=event["key"], Body=event["body"].encode())
                    return {"etag": r["ETag"]}
                """);
            using var content = new ByteArrayContent(NodeFixture.Zip(dir));
            using var response = await s_http.PostAsync("/nexus/v1/functions", content);
            Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<int> PendingAsync()
    {
        var status = JsonNode.Parse(await s_http.GetStringAsync("/nexus/v1/status"))!;
        return status["writeBack"]!["pending"]!.GetValue<int>();
    }

    private static AmazonS3Client Admin(string home)
    {
        var key = KeyPair.LoadOrCreateAdmin(Path.Combine(home, "credentials.json"));
        return new AmazonS3Client(new BasicAWSCredentials(key.AccessKeyId, key.SecretAccessKey), new AmazonS3Config
        {
            ServiceURL = $"http://127.0.0.1:{StorePort}",
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            UseHttp = true,
        });
    }

    private static async Task<string> ReadAsync(AmazonS3Client s3, string key)
    {
        using var response = await s3.GetObjectAsync(Bucket, key);
        using var reader = new StreamReader(response.ResponseStream);
        return await reader.ReadToEndAsync();
    }
}
