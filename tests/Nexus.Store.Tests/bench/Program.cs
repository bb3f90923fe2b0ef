// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Store;

// Per-request cost of the embedded store, measured on the server alone: this process runs the store, a
// child process (the same program with "client") drives it with AWSSDK.S3, and the server's CPU time
// (this process's, which does nothing else) is divided by the requests served.
//   dotnet run -c Release --project tests/Nexus.Store.Tests/bench -- [ops per round, default 2000] [rounds, default 5]
const string AccessKey = "AKIDBENCH";
const string SecretKey = "bench-secret";

if (args.Length > 0 && args[0] == "client")
{
    return await RunClientAsync(new Uri(args[1]), int.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
}

var ops = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 2000;
var rounds = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 5;
var data = Directory.CreateTempSubdirectory("nexus-store-bench-").FullName;
try
{
    var credentials = new StoreCredentials();
    credentials.Add(new StoreCredential(AccessKey, SecretKey));
    await using var server = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = data, Urls = ["http://127.0.0.1:0"] }, credentials);
    var self = Process.GetCurrentProcess();
    var start = new ProcessStartInfo(Environment.ProcessPath!) { RedirectStandardOutput = true, RedirectStandardInput = true };
    if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
    {
        // Started as "dotnet Nexus.Store.Bench.dll": the child needs the dll too.
        start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
    }

    start.ArgumentList.Add("client");
    start.ArgumentList.Add(server.BoundAddresses[0].ToString());
    start.ArgumentList.Add(ops.ToString(CultureInfo.InvariantCulture));
    start.ArgumentList.Add(rounds.ToString(CultureInfo.InvariantCulture));
    using var client = Process.Start(start)!;
    Console.WriteLine($"{"round",-6} {"op",-4} {"requests",9} {"server CPU/req (us)",20} {"client p50 (ms)",16} {"client p99 (ms)",16}");

    // The client announces each phase on a line; the server samples its own CPU at each boundary.
    var cpu = self.TotalProcessorTime;
    while (await client.StandardOutput.ReadLineAsync() is { } line)
    {
        if (!line.StartsWith("done ", StringComparison.Ordinal))
        {
            if (line.StartsWith("begin", StringComparison.Ordinal))
            {
                self.Refresh();
                cpu = self.TotalProcessorTime;
                await client.StandardInput.WriteLineAsync("go");
                await client.StandardInput.FlushAsync();
            }

            continue;
        }

        self.Refresh();
        var used = self.TotalProcessorTime - cpu;
        var parts = line.Split(' ');
        var count = int.Parse(parts[3], CultureInfo.InvariantCulture);
        Console.WriteLine($"{parts[1],-6} {parts[2],-4} {count,9} {used.TotalMicroseconds / count,20:F0} {parts[4],16} {parts[5],16}");
    }

    await client.WaitForExitAsync();
    return client.ExitCode;
}
finally
{
    Directory.Delete(data, recursive: true);
}

static async Task<int> RunClientAsync(Uri endpoint, int ops, int rounds)
{
    using var s3 = new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config { ServiceURL = endpoint.ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1" });
    await s3.PutBucketAsync("bench");
    var payload = new byte[1024];
    Random.Shared.NextBytes(payload);
    await s3.PutObjectAsync(new PutObjectRequest { BucketName = "bench", Key = "k", InputStream = new MemoryStream(payload) });
    var buffer = new byte[4096];
    for (var round = 1; round <= rounds; round++)
    {
        foreach (var op in new[] { "GET", "PUT" })
        {
            Console.WriteLine("begin");
            if (Console.ReadLine() != "go")
            {
                return 1;
            }

            var latencies = new double[ops];
            for (var i = 0; i < ops; i++)
            {
                var started = Stopwatch.GetTimestamp();
                if (op == "GET")
                {
                    using var response = await s3.GetObjectAsync("bench", "k");
                    while (await response.ResponseStream.ReadAsync(buffer) > 0)
                    {
                    }
                }
                else
                {
                    await s3.PutObjectAsync(new PutObjectRequest { BucketName = "bench", Key = "p" + (i % 64).ToString(CultureInfo.InvariantCulture), InputStream = new MemoryStream(payload) });
                }

                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Array.Sort(latencies);
            Console.WriteLine(FormattableString.Invariant($"done {round} {op} {ops} {latencies[ops / 2]:F2} {latencies[ops * 99 / 100]:F2}"));
        }
    }

    return 0;
}
