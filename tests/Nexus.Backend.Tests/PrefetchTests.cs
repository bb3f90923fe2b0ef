// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend.Prefetch;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Store;
using Nexus.Testing;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>Input prefetch against the real store, with a Python sandbox reading through the channel.</summary>
public sealed partial class PrefetchTests : IAsyncLifetime
{
    private const string Bucket = NodeUnderTest.Bucket;

    private readonly string _root = Directory.CreateTempSubdirectory("nexus-prefetch-test-").FullName;
    private readonly ReservedPort _port = new();
    private readonly StoreCredentials _credentials = new();
    private readonly ChannelServiceHost _host = new();
    private readonly List<ServedChannel> _sessions = [];
    private S3StoreServer? _store;
    private NexusBackend? _backend;

    public PrefetchTests()
    {
        _credentials.Add(new StoreCredential(NodeUnderTest.AccessKey, NodeUnderTest.SecretKey));
    }

    private string StoreUrl => $"http://127.0.0.1:{_port.Port}";

    [Fact]
    public async Task A_prefetched_object_is_served_without_a_storage_round_trip()
    {
        var data = RandomNumberGenerator.GetBytes(1_500_000);
        var backend = await StartAsync(("fn/in/photo one.bin", data));
        var session = Attach(backend);
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, S3Event(Bucket, "fn/in/photo+one.bin")));
        await WaitForAsync(() => backend.PrefetchStats.Snapshot().Fetched == 1);

        // Storage is gone: only the prefetched copy can answer.
        await _store!.DisposeAsync();
        _store = null;
        var result = await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/in/photo one.bin"})
            emit([s, hashlib.sha256(body).hexdigest(), m["ContentLength"], m["ETag"]])
            """);
        Assert.Equal(200, result.Json[0].GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), result.Json[1].GetString());
        Assert.Equal(data.Length, result.Json[2].GetInt32());
        Assert.Equal($"\"{Convert.ToHexStringLower(MD5.HashData(data))}\"", result.Json[3].GetString());
        var stats = backend.PrefetchStats.Snapshot();
        Assert.Equal(1, stats.Hits);
        Assert.Equal(0, stats.Misses);
        Assert.Equal(data.Length, stats.FetchedBytes);

        // The copy was complete and needs no revalidation: answered on the doorbell thread, no thread-pool hop.
        Assert.Equal(1, stats.HitsAtOnce);
    }

    [Fact]
    public async Task A_prefetched_copy_answers_the_same_fields_as_a_read_through_the_sdk()
    {
        // The prefetch GET is the backend's own request (no SDK pipeline); what the function sees must not depend on it,
        // the writer's checksum (asked for with ChecksumMode) included.
        var backend = await StartAsync();
        string? writerCrc32;
        using (var admin = Admin())
        {
            var put = new PutObjectRequest
            {
                BucketName = Bucket,
                Key = "fn/in/a+b %25.csv",
                ContentBody = "x,y\n1,2\n",
                ContentType = "text/csv; charset=utf-8",
                TagSet = [new Tag { Key = "k", Value = "v" }],
                ChecksumAlgorithm = ChecksumAlgorithm.CRC32,
            };
            put.Headers.CacheControl = "max-age=60";
            put.Headers.ContentDisposition = "attachment; filename=\"a.csv\"";
            put.Headers.ContentEncoding = "identity";
            put.Headers.ContentLanguage = "en";
            put.Metadata.Add("Mixed-Case", "one  two");
            put.Metadata.Add("b", "");
            await admin.PutObjectAsync(put);
            writerCrc32 = (await admin.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = put.Key, ChecksumMode = ChecksumMode.ENABLED })).ChecksumCRC32;
            Assert.False(string.IsNullOrEmpty(writerCrc32));
        }

        var session = Attach(backend);
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, S3Event(Bucket, "fn/in/a%2Bb+%2525.csv")));
        await WaitForAsync(() => backend.PrefetchStats.Snapshot().Fetched == 1);

        // The first read is the prefetch's; a prefetch serves one read, so the second goes to the store through the SDK.
        var result = await RunAsync(session, $$"""
            metas = []
            for _ in range(2):
                s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/in/a+b %25.csv", "ChecksumMode": "ENABLED"})
                m.pop("ResponseMetadata")
                metas.append([s, body.decode(), m])
            emit(metas)
            """);
        Assert.Equal((1, 1), (backend.PrefetchStats.Snapshot().Hits, backend.PrefetchStats.Snapshot().Misses));
        Assert.Equal(result.Json[1].ToString(), result.Json[0].ToString());
        var meta = result.Json[0][2];
        Assert.Equal("text/csv; charset=utf-8", meta.GetProperty("ContentType").GetString());
        Assert.Equal("en", meta.GetProperty("ContentLanguage").GetString());
        Assert.Equal(1, meta.GetProperty("TagCount").GetInt32());
        Assert.Equal("one  two", meta.GetProperty("Metadata").GetProperty("mixed-case").GetString());
        Assert.Equal(writerCrc32, meta.GetProperty("ChecksumCRC32").GetString());
    }

    [Fact]
    public async Task A_read_of_an_object_not_prefetched_goes_to_storage_and_counts_as_a_miss()
    {
        var backend = await StartAsync(("fn/a", "aaa"u8.ToArray()), ("fn/b", "bbb"u8.ToArray()));
        var session = Attach(backend);
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, S3Event(Bucket, "fn/a")));
        var result = await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/b"})
            emit([s, body.decode()])
            """);
        Assert.Equal("bbb", result.Json[1].GetString());
        Assert.Equal(1, backend.PrefetchStats.Snapshot().Misses);
        Assert.Equal(0, backend.PrefetchStats.Snapshot().Hits);
    }

    [Fact]
    public async Task A_hint_the_function_may_not_read_is_never_fetched()
    {
        var backend = await StartAsync(("fn/ok", "ok"u8.ToArray()));
        using (var admin = Admin())
        {
            await admin.PutObjectAsync(new PutObjectRequest { BucketName = NodeUnderTest.OtherBucket, Key = "secret", ContentBody = "s" });
        }

        var session = Attach(backend);
        var payload = new JsonObject
        {
            ["Records"] = new JsonArray(Record(NodeUnderTest.OtherBucket, "secret"), Record(Bucket, "other/secret"), Record(Bucket, "fn/ok")),
        };
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, Encoding.UTF8.GetBytes(payload.ToJsonString())));
        await WaitForAsync(() => backend.PrefetchStats.Snapshot().Fetched == 1);
        var stats = backend.PrefetchStats.Snapshot();
        Assert.Equal(2, stats.Denied);
        Assert.Equal(1, stats.Hints);
        Assert.Equal(2, stats.FetchedBytes);
    }

    [Fact]
    public async Task An_object_changed_after_its_prefetch_is_read_fresh()
    {
        var backend = await StartAsync(("fn/doc", "version 1"u8.ToArray()));
        var result = await ReadAfterAnOverwriteOfItsPrefetchAsync(backend);
        Assert.Equal("version 2", result);
        var stats = backend.PrefetchStats.Snapshot();
        Assert.Equal(1, stats.Stale);
        Assert.Equal(0, stats.Hits);
    }

    [Theory]
    [InlineData(true, "version 2")]
    [InlineData(false, "version 1")]
    public async Task Against_a_store_without_a_change_feed_revalidation_decides_what_an_overwritten_prefetch_answers(bool revalidate, string expected)
    {
        // An external endpoint tells the backend of no writes: only the conditional HEAD (node option
        // s3PrefetchRevalidation) finds an overwrite by another client; without it the copy of invoke time answers.
        var options = new NexusBackendOptions { ServiceUrl = StoreUrl, AccessKey = NodeUnderTest.AccessKey, SecretKey = NodeUnderTest.SecretKey, RevalidatePrefetches = revalidate };
        var backend = await StartAsync(options, changeFeed: false, ("fn/doc", "version 1"u8.ToArray()));
        var result = await ReadAfterAnOverwriteOfItsPrefetchAsync(backend);
        Assert.Equal(expected, result);
        Assert.Equal(revalidate ? 0 : 1, backend.PrefetchStats.Snapshot().Hits);
    }

    [Theory]
    [InlineData(true, null)]
    [InlineData(false, null)]
    [InlineData(true, "CRC32")]
    [InlineData(false, "SHA256")]
    public async Task A_body_corrupted_in_storage_fails_the_read_prefetched_or_not(bool prefetch, string? writerChecksum)
    {
        // The store answers with the object's checksum: the writer's, or the CRC-64/NVME it computed when the writer
        // sent none (as S3). A byte flipped on its disk afterwards must not reach the function, neither through a
        // prefetch nor through a direct read.
        var data = RandomNumberGenerator.GetBytes(300_000);
        var backend = await StartAsync();
        using (var writer = Admin(writerChecksum is null ? RequestChecksumCalculation.WHEN_REQUIRED : RequestChecksumCalculation.WHEN_SUPPORTED))
        {
            await writer.PutObjectAsync(new PutObjectRequest
            {
                BucketName = Bucket,
                Key = "fn/doc",
                InputStream = new MemoryStream(data),
                ChecksumAlgorithm = writerChecksum is null ? null : new ChecksumAlgorithm(writerChecksum),
            });
            var head = await writer.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = Bucket, Key = "fn/doc", ChecksumMode = ChecksumMode.ENABLED });
            var kept = writerChecksum switch { null => head.ChecksumCRC64NVME, "CRC32" => head.ChecksumCRC32, _ => head.ChecksumSHA256 };
            Assert.False(string.IsNullOrEmpty(kept));
            Assert.Equal(ChecksumType.FULL_OBJECT, head.ChecksumType);
        }

        // Intact, the checked read (prefetched or not) gives the bytes.
        var session = Attach(backend);
        await ReadCheckedAsync(prefetch);
        var intact = await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/doc"})
            emit([s, hashlib.sha256(body).hexdigest()])
            """);
        Assert.Equal(200, intact.Json[0].GetInt32());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(data)), intact.Json[1].GetString());
        Assert.Equal(prefetch ? 1 : 0, backend.PrefetchStats.Snapshot().Hits);

        var stored = Directory.GetFiles(Path.Combine(_root, "store"), "*", SearchOption.AllDirectories).Single(f => f.Contains("/objects/", StringComparison.Ordinal));
        await using (var file = new FileStream(stored, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 123_456;
            var b = file.ReadByte();
            file.Position = 123_456;
            file.WriteByte((byte)(b ^ 0x10));
        }

        await ReadCheckedAsync(prefetch);

        var result = await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/doc"})
            emit([s, len(body), json.dumps(m)])
            """);
        Assert.True(result.Json[0].GetInt32() == 500, result.Json.ToString());
        Assert.Equal(0, result.Json[1].GetInt32());
        Assert.Contains("InternalError", result.Json[2].GetString(), StringComparison.Ordinal);
        Assert.Equal(prefetch ? 1 : 0, backend.PrefetchStats.Snapshot().Hits);
        Assert.Equal(prefetch ? 1 : 0, backend.PrefetchStats.Snapshot().Skipped);

        async Task ReadCheckedAsync(bool prefetched)
        {
            if (prefetched)
            {
                var fetched = backend.PrefetchStats.Snapshot().Fetched + backend.PrefetchStats.Snapshot().Skipped;
                session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, S3Event(Bucket, "fn/doc")));
                await WaitForAsync(() => backend.PrefetchStats.Snapshot().Fetched + backend.PrefetchStats.Snapshot().Skipped > fetched);
            }
        }
    }

    // fn/doc ("version 1") is prefetched, overwritten with "version 2" by another client, then read by the function.
    private async Task<string?> ReadAfterAnOverwriteOfItsPrefetchAsync(NexusBackend backend)
    {
        var session = Attach(backend);
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, S3Event(Bucket, "fn/doc")));
        await WaitForAsync(() => backend.PrefetchStats.Snapshot().Fetched == 1);
        using (var admin = Admin())
        {
            await admin.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "fn/doc", ContentBody = "version 2" });
        }

        var result = await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/doc"})
            emit([s, body.decode()])
            """);
        return result.Json[1].GetString();
    }

    [Fact]
    public async Task An_object_over_the_cap_is_skipped_and_still_readable()
    {
        var data = RandomNumberGenerator.GetBytes(2 << 20);
        var backend = await StartAsync(new NexusBackendOptions { ServiceUrl = StoreUrl, AccessKey = NodeUnderTest.AccessKey, SecretKey = NodeUnderTest.SecretKey, MaxPrefetchObjectBytes = 1 << 20 }, ("fn/big", data));
        var session = Attach(backend);
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, S3Event(Bucket, "fn/big")));
        await WaitForAsync(() => backend.PrefetchStats.Snapshot().Skipped == 1);
        var result = await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/big"})
            emit([s, len(body)])
            """);
        Assert.Equal(data.Length, result.Json[1].GetInt32());
        Assert.Equal(0, backend.PrefetchStats.Snapshot().Fetched);
    }

    [Fact]
    public async Task Unused_prefetches_are_dropped_and_every_slot_comes_back()
    {
        var objects = Enumerable.Range(0, 3).Select(i => ($"fn/unused/{i}", RandomNumberGenerator.GetBytes(1_200_000))).ToArray();
        var backend = await StartAsync(objects);
        var session = Attach(backend);
        var free = session.Session.FreeSlots;
        var payload = new JsonObject { ["Records"] = new JsonArray([.. objects.Select(o => (JsonNode)Record(Bucket, o.Item1))]) };
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, Encoding.UTF8.GetBytes(payload.ToJsonString())));
        await WaitForAsync(() => backend.PrefetchStats.Snapshot().Fetched == 3);
        Assert.Equal(free - 6, session.Session.FreeSlots);

        // The next invocation's dispatch drops what the last one did not read.
        session.Storage.BeginPrefetch(PrefetchHints.Start(session.Storage.Manifest, "{}"u8.ToArray()));
        await WaitForAsync(() => session.Session.FreeSlots == free);
        Assert.Equal(3 * 1_200_000, backend.PrefetchStats.Snapshot().WastedBytes);
    }

    [Fact]
    public async Task Hints_found_late_start_fetches_only_while_their_invocation_lasts()
    {
        var backend = await StartAsync(("fn/a", "aaa"u8.ToArray()), ("fn/b", "bbbbb"u8.ToArray()));
        var session = Attach(backend);

        // Found after the invocation ended: nothing may be fetched (it would hold slots until the next invocation).
        var ended = new TaskCompletionSource<(IReadOnlyList<(string Bucket, string Key)> Allowed, int Denied)>();
        session.Storage.BeginPrefetch(new PrefetchHints(S3Event(Bucket, "fn/a"), ended.Task));
        session.Storage.EndInvocation();
        ended.SetResult(([(Bucket, "fn/a")], 0));
        var result = await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/a"})
            emit([s, body.decode()])
            """);
        Assert.Equal("aaa", result.Json[1].GetString());
        Assert.Equal((0, 1), (backend.PrefetchStats.Snapshot().Hits, backend.PrefetchStats.Snapshot().Misses));

        // Found while the invocation runs (after the instance was bound to it): fetched and served.
        var live = new TaskCompletionSource<(IReadOnlyList<(string Bucket, string Key)> Allowed, int Denied)>();
        session.Storage.BeginPrefetch(new PrefetchHints(S3Event(Bucket, "fn/b"), live.Task));
        live.SetResult(([(Bucket, "fn/b")], 0));
        result = await RunAsync(session, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/b"})
            emit([s, body.decode()])
            """);
        Assert.Equal("bbbbb", result.Json[1].GetString());
        Assert.Equal(1, backend.PrefetchStats.Snapshot().Hits);
    }

    [Fact]
    public async Task A_small_event_is_searched_on_the_invoking_thread_a_large_one_finds_the_same()
    {
        var manifest = NodeUnderTest.Manifest();

        // A trigger's record: searched before Start returns, so there is no thread-pool hand-over to wait for.
        var small = PrefetchHints.Start(manifest, S3Event(Bucket, "fn/a"));
        Assert.True(small.Searched.IsCompletedSuccessfully);
        Assert.Equal([(Bucket, "fn/a")], (await small.Found).Allowed);

        var padded = new JsonObject { ["Records"] = new JsonArray(Record(Bucket, "fn/a"), Record("other-bucket", "x")), ["pad"] = new string('x', PrefetchHints.InlineSearchBytes) };
        var large = PrefetchHints.Start(manifest, Encoding.UTF8.GetBytes(padded.ToJsonString()));
        var (allowed, denied) = await large.Found;
        Assert.Equal([(Bucket, "fn/a")], allowed);
        Assert.Equal(1, denied);
    }

    [Fact]
    public void Hints_come_from_url_encoded_s3_records_and_manifest_inputs_within_grants()
    {
        var manifest = NodeUnderTest.Manifest() with
        {
            Inputs = [new InputHint(InputValue.Parse(Bucket), InputValue.Parse("$.config")), new InputHint(InputValue.Parse("$.b"), InputValue.Parse("$.k"))],
        };
        var payload = new JsonObject
        {
            ["Records"] = new JsonArray(Record(Bucket, "fn/my+photo%C3%A9+%2B1.jpg"), Record(Bucket, "fn/my+photo%C3%A9+%2B1.jpg"), Record("other-bucket", "x")),
            ["config"] = "shared/settings.json",
            ["b"] = Bucket,
        };
        var (allowed, denied) = InputHints.Extract(manifest, Encoding.UTF8.GetBytes(payload.ToJsonString()));
        Assert.Equal([(Bucket, "fn/my photoé +1.jpg"), (Bucket, "shared/settings.json")], allowed);
        Assert.Equal(1, denied);

        Assert.Empty(InputHints.Extract(manifest, "not json"u8.ToArray()).Allowed);
        Assert.Empty(InputHints.Extract(manifest, """{"Records": "nope"}"""u8.ToArray()).Allowed);
        Assert.Empty(InputHints.Extract(manifest, """{"Records": [{"s3": {"bucket": {"name": 7}}}]}"""u8.ToArray()).Allowed);
        Assert.Empty(InputHints.Extract(manifest with { Inputs = [] }, """[1, 2]"""u8.ToArray()).Allowed);

        var many = new JsonObject { ["Records"] = new JsonArray([.. Enumerable.Range(0, 40).Select(i => (JsonNode)Record(Bucket, $"fn/{i}"))]) };
        Assert.Equal(InputHints.MaxHints, InputHints.Extract(manifest, Encoding.UTF8.GetBytes(many.ToJsonString())).Allowed.Count);
    }

    [Fact]
    public void Records_are_read_only_where_an_s3_event_has_them_and_an_event_that_is_not_json_has_none()
    {
        var manifest = NodeUnderTest.Manifest() with { Inputs = [] };
        var record = Record(Bucket, "fn/a.jpg").ToJsonString();
        var inner = Record(Bucket, "fn/nested.jpg").ToJsonString();
        var nested = "{\"detail\": {\"Records\": [" + inner + "]}, \"Records\": [{\"s3\": [1]}, {\"s3\": {\"bucket\": \"x\", \"object\": {\"key\": \"fn/b\"}}}, " + record + "]}";
        Assert.Equal([(Bucket, "fn/a.jpg")], InputHints.Extract(manifest, Encoding.UTF8.GetBytes(nested)).Allowed);

        // Valid up to its records, then not JSON: no hints at all, as a parse of the whole event would give.
        Assert.Empty(InputHints.Extract(manifest, Encoding.UTF8.GetBytes("{\"Records\": [" + record + "]} trailing")).Allowed);
        Assert.Empty(InputHints.Extract(manifest, Encoding.UTF8.GetBytes("{\"Records\": [" + record + "], \"x\": [}")).Allowed);
        Assert.Empty(InputHints.Extract(manifest, Encoding.UTF8.GetBytes(new string('[', 40) + new string(']', 40))).Allowed);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _port.Dispose();
        foreach (var session in _sessions)
        {
            await session.DisposeAsync();
        }

        if (_backend is not null)
        {
            await _backend.DisposeAsync();
        }

        await _host.DisposeAsync();
        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }

    private static JsonObject Record(string bucket, string key) => new()
    {
        ["eventSource"] = "aws:s3",
        ["s3"] = new JsonObject { ["bucket"] = new JsonObject { ["name"] = bucket }, ["object"] = new JsonObject { ["key"] = key } },
    };

    private static byte[] S3Event(string bucket, string key) =>
        Encoding.UTF8.GetBytes(new JsonObject { ["Records"] = new JsonArray(Record(bucket, key)) }.ToJsonString());


    private static async Task WaitForAsync(Func<bool> condition)
    {
        // A hang guard, not a timing assertion.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(1);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "the condition did not hold within a minute");
            await Task.Delay(10);
        }
    }

    private Task<NexusBackend> StartAsync(params (string Key, byte[] Data)[] objects) =>
        StartAsync(new NexusBackendOptions { ServiceUrl = StoreUrl, AccessKey = NodeUnderTest.AccessKey, SecretKey = NodeUnderTest.SecretKey }, objects);

    private Task<NexusBackend> StartAsync(NexusBackendOptions options, params (string Key, byte[] Data)[] objects) =>
        StartAsync(options, changeFeed: true, objects);

    private async Task<NexusBackend> StartAsync(NexusBackendOptions options, bool changeFeed, params (string Key, byte[] Data)[] objects)
    {
        _port.Release();
        _store = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = Path.Combine(_root, "store"), Urls = [StoreUrl], Durable = false }, _credentials);
        using (var admin = Admin())
        {
            await admin.PutBucketAsync(Bucket);
            await admin.PutBucketAsync(NodeUnderTest.OtherBucket);
            foreach (var (key, data) in objects)
            {
                await admin.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(data) });
            }
        }

        _backend = new NexusBackend(options);
        if (changeFeed)
        {
            _store.ObjectChanged += _backend.ObjectChanged;
        }

        return _backend;
    }

    private ServedChannel Attach(NexusBackend backend)
    {
        var session = ServedChannel.Open(_host, backend, NodeUnderTest.Manifest(), new ChannelOptions { RegionSize = 32 << 20, SlotSize = 1 << 20 });
        _sessions.Add(session);
        return session;
    }

    private AmazonS3Client Admin(RequestChecksumCalculation? checksums = null) => new(new BasicAWSCredentials(NodeUnderTest.AccessKey, NodeUnderTest.SecretKey), new AmazonS3Config
    {
        RequestChecksumCalculation = checksums ?? RequestChecksumCalculation.WHEN_SUPPORTED,
        ServiceURL = StoreUrl,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        UseHttp = true,
        MaxErrorRetry = 0,
    });

    private static async Task<PythonSandbox.Result> RunAsync(ServedChannel session, string script)
    {
        var result = await PythonSandbox.RunAsync(session.Channel, PythonSandbox.Prelude + script);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result;
    }
}
