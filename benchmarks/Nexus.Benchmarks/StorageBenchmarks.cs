// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3.Model;
using BenchmarkDotNet.Attributes;
using Nexus.Channel;
using Nexus.Functions;

namespace Nexus.Benchmarks;

/// <summary>
/// A 1 KiB GetObject as a nexus-mode function makes it (channel, backend, the SDK to the embedded store) against the
/// same GET by the backend's SDK client alone: the difference is what the channel and the backend add. Allocations are
/// the whole process's (the store's included).
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class StorageReadBenchmarks
{
    private static readonly byte[] s_getHeader = """{"Bucket":"nexus-bench","Key":"fn/1k"}"""u8.ToArray();
    private StoreFixture _fixture = null!;

    [Benchmark(Baseline = true)]
    public async Task<long> Get1KiBBySdkDirect()
    {
        using var response = await _fixture.Direct.GetObjectAsync(StoreFixture.Bucket, "fn/1k");
        var body = new byte[1024];
        await response.ResponseStream.ReadExactlyAsync(body);
        return response.ContentLength;
    }

    [Benchmark]
    public long Get1KiBThroughChannel()
    {
        var completion = _fixture.Call(ChannelOp.GetObject, s_getHeader, []);
        if (completion.Status != 200 || completion.TotalLength != 1024)
        {
            throw new InvalidOperationException($"GetObject answered {completion.Status} with {completion.TotalLength} bytes");
        }

        _fixture.Sandbox.Submit(new ChannelRecord { Op = ChannelOp.Release, Slot = completion.Slot }, ring: false);
        return (long)completion.TotalLength;
    }

    [GlobalSetup]
    public void Setup()
    {
        _fixture = StoreFixture.StartAsync(WriteBackMode.Sync).GetAwaiter().GetResult();
        _fixture.Direct.PutObjectAsync(new PutObjectRequest { BucketName = StoreFixture.Bucket, Key = "fn/1k", InputStream = new MemoryStream(new byte[1024]) }).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _fixture.DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>
/// How long a function waits for a 64 KiB PutObject's answer through the channel: <c>writeback: async</c> (spooled in
/// the journal, fdatasync, acknowledged; uploaded after) against <c>sync</c> (stored before the answer). Puts follow
/// each other back to back, so the uploads of earlier ones compete with the next. Latency under concurrent writers is
/// <c>nexus bench spool</c>'s.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 15)]
public class WriteBackBenchmarks
{
    private static readonly byte[] s_body = new byte[64 << 10];
    private StoreFixture _fixture = null!;
    private int _key;

    [Params(WriteBackMode.Async, WriteBackMode.Sync)]
    public WriteBackMode WriteBack { get; set; }

    [Benchmark]
    public int Put64KiB()
    {
        var header = System.Text.Encoding.UTF8.GetBytes($$"""{"Bucket":"nexus-bench","Key":"fn/put/{{_key++ % 64}}"}""");
        var completion = _fixture.Call(ChannelOp.PutObject, header, s_body);
        if (completion.Status != 200)
        {
            throw new InvalidOperationException($"PutObject answered {completion.Status}");
        }

        if (completion.Slot != ChannelRecord.NoSlot)
        {
            _fixture.Sandbox.Submit(new ChannelRecord { Op = ChannelOp.Release, Slot = completion.Slot }, ring: false);
        }

        return completion.Status;
    }

    [GlobalSetup]
    public void Setup() => _fixture = StoreFixture.StartAsync(WriteBack).GetAwaiter().GetResult();

    [GlobalCleanup]
    public void Cleanup() => _fixture.DisposeAsync().AsTask().GetAwaiter().GetResult();
}
