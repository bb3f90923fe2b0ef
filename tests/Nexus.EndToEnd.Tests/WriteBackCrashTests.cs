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
/// The write-back promise against a real crash, for writes that can never land as they were: a node process (`nexus up
/// --foreground`) acknowledges a function's writes to a bucket it has seen, which is then deleted behind its back; each
/// upload is refused (NoSuchBucket) and the write becomes a dead letter, kept in the spool. The node is killed with
/// SIGKILL; its next start finds the dead letters again (not pending, not retried), `nexus spool ls` lists them, and
/// once the bucket exists again `nexus spool redrive` lands every acknowledged write. `nexus down` leaves a dead letter on
/// disk, where `nexus spool ls` still finds it.
/// </summary>
public sealed class WriteBackCrashTests
{
    private const string Bucket = "wb-late";
    private const string NeverBucket = "wb-never";

    // Fixed ports of this test's node (the e2e assembly runs its tests one at a time).
    private const int ApiPort = 29720;
    private const int StorePort = 29721;
    private const int RuntimeApiPort = 29722;
    private const int ServiceProxyPort = 29723;

    private static readonly HttpClient s_http = new() { BaseAddress = new Uri($"http://127.0.0.1:{ApiPort}"), Timeout = TimeSpan.FromMinutes(2) };

    [RootFact]
    public async Task Dead_letters_survive_kill_9_and_land_when_the_operator_redrives_them()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-crash-").FullName;
        var spool = Path.Combine(home, "writeback");
        Process? node = null;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(home, "node.json"), new JsonObject
            {
                ["apiUrl"] = $"http://127.0.0.1:{ApiPort}",
                ["storeUrl"] = $"http://127.0.0.1:{StorePort}",
                ["sandboxStoreUrl"] = $"http://10.77.0.1:{StorePort}",
                ["runtimeApiUrl"] = $"http://10.77.0.1:{RuntimeApiPort}",
                ["serviceProxyUrl"] = $"http://10.77.0.1:{ServiceProxyPort}",
            }.ToJsonString());

            node = await StartNodeAsync(home);
            await DeployAsync();
            await SeeThenDeleteAsync(home, Bucket);

            // The first put is acknowledged (the node knows the bucket); a later one is either acknowledged too or, once
            // an upload found the bucket gone, refused as S3 refuses it. Every acknowledged one must land in the end.
            var bodies = new Dictionary<string, string> { ["k1"] = "first", ["k2"] = new string('z', 200_000) };
            var acknowledged = new List<string>();
            foreach (var (key, body) in bodies)
            {
                var answer = await InvokeAsync(new JsonObject { ["key"] = key, ["body"] = body });
                if (answer["etag"] is not null)
                {
                    acknowledged.Add(key);
                }
                else
                {
                    Assert.Equal("NoSuchBucket", (string?)answer["error"]);
                }
            }

            Assert.Contains("k1", acknowledged);
            await WaitForAsync(async () => (await WriteBackAsync())["deadLetters"]!.GetValue<int>() == acknowledged.Count, "the writes did not become dead letters");
            Assert.Equal(0, (await WriteBackAsync())["pending"]!.GetValue<int>());
            var status = await RunCliAsync("status", "--home", home);
            Assert.True(status.ExitCode == 0, status.Output);
            Assert.Matches($@"write-back dead letters\s+{acknowledged.Count} \(", status.Output);

            node.Kill();
            await node.WaitForExitAsync();
            node.Dispose();

            node = await StartNodeAsync(home);
            var recovered = await WriteBackAsync();
            Assert.Equal((0, acknowledged.Count), (recovered["pending"]!.GetValue<int>(), recovered["deadLetters"]!.GetValue<int>()));
            var listed = await RunCliAsync("spool", "ls", "--home", home);
            Assert.True(listed.ExitCode == 0, listed.Output);
            Assert.All(acknowledged, key => Assert.Contains(key, listed.Output, StringComparison.Ordinal));
            using (var s3 = Admin(home))
            {
                await s3.PutBucketAsync(Bucket);
                var redrive = await RunCliAsync("spool", "redrive", "--home", home);
                Assert.True(redrive.ExitCode == 0, redrive.Output);
                Assert.Contains($"{acknowledged.Count} dead letter(s) redriven", redrive.Output, StringComparison.Ordinal);
                await WaitForAsync(async () => (await WriteBackAsync())["pending"]!.GetValue<int>() == 0, "the re-driven writes were not uploaded");
                var stored = await s3.ListObjectsV2Async(new Amazon.S3.Model.ListObjectsV2Request { BucketName = Bucket });
                Assert.Equal(acknowledged.Order(), (stored.S3Objects ?? []).Select(o => o.Key).Order());
                foreach (var key in acknowledged)
                {
                    Assert.Equal(bodies[key], await ReadAsync(s3, key));
                }
            }

            Assert.Empty(SpoolJournal.Scan(spool));
            Assert.Empty(SpoolJournal.Scan(spool, deadLetters: true));

            // `nexus down` leaves a dead letter where it is; `nexus spool ls` reads it from the spool while the node is down.
            await SeeThenDeleteAsync(home, NeverBucket);
            Assert.NotNull((await InvokeAsync(new JsonObject { ["bucket"] = NeverBucket, ["key"] = "k3", ["body"] = "left" }))["etag"]);
            await WaitForAsync(async () => (await WriteBackAsync())["deadLetters"]!.GetValue<int>() == 1, "the write to the deleted bucket did not become a dead letter");
            var down = await RunCliAsync("down", "--home", home);
            Assert.True(down.ExitCode == 0, down.Output);
            Assert.True(node.HasExited, down.Output);
            Assert.Equal([$"{NeverBucket}/k3"], SpoolJournal.Scan(spool, deadLetters: true).Select(r => r.Bucket + "/" + r.Key));
            var offline = await RunCliAsync("spool", "ls", "--home", home);
            Assert.True(offline.ExitCode == 0, offline.Output);
            Assert.Contains("k3", offline.Output, StringComparison.Ordinal);
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
    // there lands, then the bucket is deleted behind the node's back, so a later write is acknowledged and cannot land.
    private static async Task SeeThenDeleteAsync(string home, string bucket)
    {
        using var s3 = Admin(home);
        await s3.PutBucketAsync(bucket);
        await InvokeAsync(new JsonObject { ["bucket"] = bucket, ["key"] = "seen", ["body"] = "x" });
        await WaitForAsync(async () => (await WriteBackAsync())["pending"]!.GetValue<int>() == 0, $"the write to {bucket} was not uploaded");

        await s3.DeleteObjectAsync(bucket, "seen");
        await s3.DeleteBucketAsync(bucket);
    }

    /// <summary>The function's answer: {"etag"} when its put was acknowledged, {"error": code} when it was refused.</summary>
    private static async Task<JsonNode> InvokeAsync(JsonObject payload)
    {
        using var response = await s_http.PostAsync("/2015-03-31/functions/wb-crash/invocations", new StringContent(payload.ToJsonString(), Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode && !response.Headers.Contains("X-Amz-Function-Error"), text);
        return JsonNode.Parse(text)!;
    }

    private static async Task WaitForAsync(Func<Task<bool>> done, string failure)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!await done())
        {
            Assert.True(DateTime.UtcNow < deadline, failure + " within a minute");
            await Task.Delay(100);
        }
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
                    // The rest of the management API takes the token made from the node's admin key.
                    s_http.DefaultRequestHeaders.Remove(KeyPair.ManagementTokenHeader);
                    s_http.DefaultRequestHeaders.Add(KeyPair.ManagementTokenHeader, KeyPair.LoadOrCreateAdmin(Path.Combine(home, "credentials.json")).ManagementToken());
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
                import botocore.exceptions
                s3 = boto3.client("s3")
                def handler(event, context):
                    try:
                        r = s3.put_object(Bucket=event.get("bucket", "{{Bucket}}"), Key=event["key"], Body=event["body"].encode())
                    except botocore.exceptions.ClientError as e:
                        return {"error": e.response["Error"]["Code"]}
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

    private static async Task<JsonNode> WriteBackAsync() => JsonNode.Parse(await s_http.GetStringAsync("/nexus/v1/status"))!["writeBack"]!;

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
