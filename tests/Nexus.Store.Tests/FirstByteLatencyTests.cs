// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// A store set to answer like a public object store (the benchmark's `s3` storage profile) waits its first-byte
/// latency before every S3 response, successful or not, so a client sees at least that much per request.
/// </summary>
public sealed class FirstByteLatencyTests : IAsyncLifetime
{
    private static readonly TimeSpan s_latency = TimeSpan.FromMilliseconds(250);
    private readonly string _data = Path.Combine(Path.GetTempPath(), "nexus-store-latency-" + Guid.NewGuid().ToString("N"));
    private S3StoreServer _server = null!;

    public async Task InitializeAsync()
    {
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential("AKIDLATENCY", "latency-secret"));
        _server = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = _data, Urls = ["http://127.0.0.1:0"], FirstByteLatency = s_latency, Durable = false }, credentials);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task Every_response_waits_the_first_byte_latency()
    {
        using var s3 = new AmazonS3Client(new BasicAWSCredentials("AKIDLATENCY", "latency-secret"), new AmazonS3Config { ServiceURL = _server.BoundAddresses[0].ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });
        var calls = new (string Name, Func<Task> Call)[]
        {
            ("PutBucket", () => s3.PutBucketAsync("slow")),
            ("PutObject", () => s3.PutObjectAsync(new PutObjectRequest { BucketName = "slow", Key = "k", ContentBody = "body" })),
            ("GetObject", async () =>
            {
                using var get = await s3.GetObjectAsync("slow", "k");
                Assert.Equal("body", await new StreamReader(get.ResponseStream).ReadToEndAsync());
            }),
            ("HeadObject", () => s3.GetObjectMetadataAsync("slow", "k")),
            ("GetObject of a missing key (an error response)", async () => Assert.Equal("NoSuchKey", (await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => s3.GetObjectAsync("slow", "missing"))).ErrorCode)),
        };

        foreach (var (name, call) in calls)
        {
            var watch = Stopwatch.StartNew();
            await call();
            Assert.True(watch.Elapsed >= s_latency, $"{name} answered after {watch.Elapsed.TotalMilliseconds:0.0} ms, before the store's {s_latency.TotalMilliseconds} ms first-byte latency");
        }
    }
}
