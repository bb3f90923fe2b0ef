// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend.WriteBack;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Store;
using Nexus.Testing;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// Write-back against the real store. The store is started late, on a port fixed in advance, so that acknowledged
/// writes demonstrably wait in the spool (the backend cannot reach storage yet) and land once it is up.
/// </summary>
public sealed partial class WriteBackTests : IAsyncLifetime
{
    private const string Bucket = NodeUnderTest.Bucket;

    private readonly string _root = Directory.CreateTempSubdirectory("nexus-writeback-test-").FullName;
    private readonly ReservedPort _port = new();
    private readonly StoreCredentials _credentials = new();
    private readonly List<NexusBackend> _backends = [];
    private readonly ChannelServiceHost _host = new();
    private S3StoreServer? _store;

    public WriteBackTests()
    {
        _credentials.Add(new StoreCredential(NodeUnderTest.AccessKey, NodeUnderTest.SecretKey));
    }

    private string Spool => Path.Combine(_root, "spool");

    private string StoreUrl => $"http://127.0.0.1:{_port.Port}";

    [Fact]
    public async Task A_put_is_acknowledged_from_the_spool_before_storage_has_it_and_lands_once_storage_is_up()
    {
        var backend = NewBackend();
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            import random
            data = random.Random(7).randbytes(300_000)
            s, m, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/out.bin", "ContentType": "application/x-test", "Metadata": {"run": "7"} }, data)
            g, gm, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/out.bin"})
            h, hm, _ = call("HeadObject", {"Bucket": "{{Bucket}}", "Key": "fn/out.bin"})
            emit({"md5": hashlib.md5(data).hexdigest(), "put": [s, m["ETag"]], "get": [g, hashlib.md5(body).hexdigest(), gm["ContentType"], gm["Metadata"]], "head": [h, hm["ContentLength"], hm["ETag"]]})
            """);

        var json = result.Json;
        var md5 = json.GetProperty("md5").GetString();
        Assert.Equal(200, json.GetProperty("put")[0].GetInt32());
        Assert.Equal($"\"{md5}\"", json.GetProperty("put")[1].GetString());
        Assert.Equal(200, json.GetProperty("get")[0].GetInt32());
        Assert.Equal(md5, json.GetProperty("get")[1].GetString());
        Assert.Equal("application/x-test", json.GetProperty("get")[2].GetString());
        Assert.Equal("7", json.GetProperty("get")[3].GetProperty("run").GetString());
        Assert.Equal(300_000, json.GetProperty("head")[1].GetInt32());
        Assert.Equal(1, backend.WriteBack!.Stats.Pending);
        Assert.Single(SpoolJournal.Scan(Spool));

        await StartStoreAsync();
        Assert.Equal(0, await backend.WriteBack.DrainAsync(TimeSpan.FromMinutes(1)));
        using var admin = Admin();
        using var stored = await admin.GetObjectAsync(Bucket, "fn/out.bin");
        Assert.Equal($"\"{md5}\"", stored.ETag);
        Assert.Equal("application/x-test", stored.Headers.ContentType);
        Assert.Equal("7", stored.Metadata["run"]);
        Assert.Equal(md5, Convert.ToHexStringLower(MD5.HashData(await ReadAllAsync(stored.ResponseStream))));
        Assert.Empty(SpoolJournal.Scan(Spool));
    }

    /// <summary>
    /// A log that fails (the node's log on a full disk) stops no upload: the line logging a failed upload's retry threw
    /// out of the upload loop, so the write was never retried and the uploaders stopped for good (an operator's review).
    /// </summary>
    [Fact]
    public async Task Uploads_go_on_when_the_log_cannot_be_written()
    {
        var logged = 0;
        var backend = NewBackend(log: _ =>
        {
            Interlocked.Increment(ref logged);
            throw new IOException("No space left on device : '/var/lib/nexus/node.log'");
        });
        await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            s, _, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/logless.txt"}, b"kept")
            emit({"put": s})
            """);

        // Storage is down: the upload fails and is retried, each retry said to the failing log.
        for (var waited = 0; Volatile.Read(ref logged) == 0 && waited < 200; waited++)
        {
            await Task.Delay(50);
        }

        Assert.True(Volatile.Read(ref logged) > 0, "no upload failure was logged");
        await StartStoreAsync();
        Assert.Equal(0, await backend.WriteBack!.DrainAsync(TimeSpan.FromSeconds(30)));
        using var admin = Admin();
        Assert.Equal("kept"u8.ToArray(), await GetAsync(admin, "fn/logless.txt"));
    }

    [Fact]
    public async Task Another_function_of_the_node_reads_the_acknowledged_write_before_it_is_uploaded()
    {
        var backend = NewBackend(drainTimeout: TimeSpan.Zero);
        var writer = NodeUnderTest.Manifest("writer");
        var reader = NodeUnderTest.Manifest("reader") with { Storage = [new StorageGrant(Bucket, "fn/", StorageAccess.Read)] };
        var put = await RunAsync(backend, writer, $$"""
            s, m, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/shared.txt"}, b"written by writer")
            emit([s])
            """);
        Assert.Equal(200, put.Json[0].GetInt32());

        var get = await RunAsync(backend, reader, $$"""
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/shared.txt"})
            emit([s, body.decode()])
            """);
        Assert.Equal(200, get.Json[0].GetInt32());
        Assert.Equal("written by writer", get.Json[1].GetString());
        Assert.Equal(1, backend.WriteBack!.Stats.Pending);
    }

    /// <summary>
    /// Guards "a pending spooled write is served only to a grant holder": while storage is down the spool is the only
    /// place the bytes exist, and a function without a read grant on the key asks for them by Get, Head, ranged Get
    /// and a listing of the prefix; each is AccessDenied and no byte of the write reaches it. Checked by removing the
    /// read-grant check of GetObject once, this failed.
    /// </summary>
    [Fact]
    public async Task A_function_without_a_read_grant_gets_nothing_of_a_pending_write()
    {
        var backend = NewBackend(drainTimeout: TimeSpan.Zero);
        var put = await RunAsync(backend, NodeUnderTest.Manifest("writer"), $$"""
            s, m, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/secret.txt"}, b"pending secret")
            emit([s])
            """);
        Assert.Equal(200, put.Json[0].GetInt32());

        var outsider = NodeUnderTest.Manifest("outsider") with { Storage = [new StorageGrant(Bucket, "shared/", StorageAccess.ReadWrite)] };
        var probe = await RunAsync(backend, outsider, $$"""
            out = {}
            for name, op, params in [
                    ("get", "GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/secret.txt"}),
                    ("range", "GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/secret.txt", "Range": "bytes=0-5"}),
                    ("head", "HeadObject", {"Bucket": "{{Bucket}}", "Key": "fn/secret.txt"}),
                    ("list", "ListObjectsV2", {"Bucket": "{{Bucket}}", "Prefix": "fn/"})]:
                s, m, body = call(op, params)
                out[name] = [s, m.get("Error", {}).get("Code"), body.decode(errors="replace")]
            emit(out)
            """);

        foreach (var name in new[] { "get", "range", "head", "list" })
        {
            var entry = probe.Json.GetProperty(name);
            Assert.True(entry[0].GetInt32() == 403 && entry[1].GetString() == "AccessDenied", $"{name}: {entry}");
            Assert.DoesNotContain("pending secret", entry[2].GetString(), StringComparison.Ordinal);
        }

        Assert.Equal(1, backend.WriteBack!.Stats.Pending);
    }

    [Fact]
    public async Task The_last_acknowledged_write_of_a_key_wins_and_older_ones_are_never_uploaded_after_it()
    {
        var backend = NewBackend();
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            out = []
            for i in range(25):
                s, m, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/counter"}, f"version {i}".encode())
                out.append(s)
            s, m, body = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/counter"})
            emit([out, body.decode()])
            """);
        Assert.All(result.Json[0].EnumerateArray(), s => Assert.Equal(200, s.GetInt32()));
        Assert.Equal("version 24", result.Json[1].GetString());

        var changes = new List<string>();
        await StartStoreAsync();
        _store!.ObjectChanged += (_, key) =>
        {
            lock (changes)
            {
                changes.Add(key);
            }
        };
        Assert.Equal(0, await backend.WriteBack!.DrainAsync(TimeSpan.FromMinutes(1)));
        using var admin = Admin();
        Assert.Equal("version 24", System.Text.Encoding.UTF8.GetString(await GetAsync(admin, "fn/counter")));
        Assert.True(backend.WriteBack.Stats.Superseded >= 23, $"superseded {backend.WriteBack.Stats.Superseded}");
        Assert.True(changes.Count <= 2, $"the key was written {changes.Count} times");
        Assert.Empty(SpoolJournal.Scan(Spool));
    }

    [Fact]
    public async Task A_new_backend_recovers_every_acknowledged_write_from_the_spool_and_skips_torn_files()
    {
        var first = NewBackend(drainTimeout: TimeSpan.Zero);
        var result = await RunAsync(first, NodeUnderTest.Manifest(), $$"""
            out = []
            for i in range(40):
                s, m, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": f"fn/many/{i}"}, (f"object {i} " * (i + 1)).encode())
                out.append(s)
            for v in ("old", "new"):
                s, m, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/twice"}, v.encode())
                out.append(s)
            emit(out)
            """);
        Assert.All(result.Json.EnumerateArray(), s => Assert.Equal(200, s.GetInt32()));
        await DisposeBackendAsync(first);

        // What a crash leaves besides whole files: a write that never reached its rename, and garbage.
        await File.WriteAllTextAsync(Path.Combine(Spool, SpoolFile.TempPrefix + "999"), "half a write");
        await File.WriteAllTextAsync(Path.Combine(Spool, SpoolFile.FileName(1_000_000)), "not a spool file at all");

        await StartStoreAsync();
        var second = NewBackend();
        Assert.Equal(0, await second.WriteBack!.DrainAsync(TimeSpan.FromMinutes(2)));
        using var admin = Admin();
        for (var i = 0; i < 40; i++)
        {
            Assert.Equal(string.Concat(Enumerable.Repeat($"object {i} ", i + 1)), System.Text.Encoding.UTF8.GetString(await GetAsync(admin, $"fn/many/{i}")));
        }

        Assert.Equal("new", System.Text.Encoding.UTF8.GetString(await GetAsync(admin, "fn/twice")));
        Assert.False(File.Exists(Path.Combine(Spool, SpoolFile.TempPrefix + "999")));
        Assert.Equal([SpoolFile.FileName(1_000_000)], Directory.GetFiles(Spool, "*" + SpoolFile.Extension).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_recovered_write_the_store_already_has_is_removed_without_a_second_upload()
    {
        var first = NewBackend(drainTimeout: TimeSpan.Zero);
        await RunAsync(first, NodeUnderTest.Manifest(), $$"""
            emit(call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/done-before-crash"}, b"payload")[0])
            """);
        await DisposeBackendAsync(first);

        // The crash came after the upload and before the spool file was removed.
        await StartStoreAsync();
        using var admin = Admin();
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "fn/done-before-crash", ContentBody = "payload" });
        var writes = 0;
        _store!.ObjectChanged += (_, key) => Interlocked.Increment(ref writes);

        var second = NewBackend();
        Assert.Equal(0, await second.WriteBack!.DrainAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal(0, writes);
        Assert.Empty(SpoolJournal.Scan(Spool));
    }

    [Fact]
    public async Task Disposal_drains_pending_uploads()
    {
        var backend = NewBackend();
        await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            emit([call("PutObject", {"Bucket": "{{Bucket}}", "Key": f"fn/drain/{i}"}, b"x" * i)[0] for i in range(10)])
            """);
        Assert.Equal(10, backend.WriteBack!.Stats.Pending);
        await StartStoreAsync();
        await DisposeBackendAsync(backend);

        using var admin = Admin();
        var listed = await admin.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = "fn/drain/" });
        Assert.Equal(10, listed.KeyCount);
        Assert.Empty(SpoolJournal.Scan(Spool));
    }

    [Fact]
    public async Task Listing_deleting_and_copying_see_acknowledged_writes_in_order()
    {
        await StartStoreAsync();
        var backend = NewBackend();
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/l/a"}, b"a")
            call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/l/b"}, b"b")
            s, m, _ = call("ListObjectsV2", {"Bucket": "{{Bucket}}", "Prefix": "fn/l/"})
            listed = [c["Key"] for c in m.get("Contents", [])]
            call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/l/c"}, b"c")
            call("CopyObject", {"Bucket": "{{Bucket}}", "Key": "fn/l/c-copy", "CopySource": {"Bucket": "{{Bucket}}", "Key": "fn/l/c"} })
            call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/l/a"}, b"a2")
            d, _, _ = call("DeleteObject", {"Bucket": "{{Bucket}}", "Key": "fn/l/a"})
            g, _, _ = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/l/a"})
            s, m, copy = call("GetObject", {"Bucket": "{{Bucket}}", "Key": "fn/l/c-copy"})
            emit([listed, d, g, copy.decode()])
            """);
        var json = result.Json;
        Assert.Equal(["fn/l/a", "fn/l/b"], json[0].EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(204, json[1].GetInt32());
        Assert.Equal(404, json[2].GetInt32());
        Assert.Equal("c", json[3].GetString());
        Assert.Equal(0, await backend.WriteBack!.DrainAsync(TimeSpan.FromMinutes(1)));
        using var admin = Admin();
        var e = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => admin.GetObjectAsync(Bucket, "fn/l/a"));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
    }

    /// <summary>
    /// The generic path (a ServiceRequest for S3, as botocore sends calls the fast path does not serve) reads what a
    /// pending write-back wrote: with storage down, the acknowledged put waits in the spool, and a generic-path GetObject
    /// of its key and a ListObjectVersions of its prefix wait for it to land, then see it; neither answers from storage
    /// before. With the generic path's flush removed once, the read went to storage while it was down, did not get the
    /// write (not 200) and this failed.
    /// </summary>
    [Fact]
    public async Task Generic_path_calls_wait_for_a_pending_write_of_what_they_read()
    {
        var backend = NewBackend();
        var put = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            s, _, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/generic/a.txt"}, b"written before the generic read")
            emit([s])
            """);
        Assert.Equal(200, put.Json[0].GetInt32());
        Assert.Equal(1, backend.WriteBack!.Stats.Pending);

        var reads = RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            def generic(operation, path):
                return call("ServiceRequest", {"Service": "s3", "Operation": operation, "Method": "GET", "Path": path, "Headers": dict()})
            g, _, body = generic("GetObject", "/{{Bucket}}/fn/generic/a.txt")
            v, _, listing = generic("ListObjectVersions", "/{{Bucket}}?versions&prefix=fn%2Fgeneric%2F")
            emit([g, body.decode(), v, listing.decode()])
            """);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(reads.IsCompleted, "a generic-path read answered while the write of its key was still pending");

        await StartStoreAsync();
        var json = (await reads).Json;
        Assert.Equal(200, json[0].GetInt32());
        Assert.Equal("written before the generic read", json[1].GetString());
        Assert.Equal(200, json[2].GetInt32());
        Assert.Contains("<Key>fn/generic/a.txt</Key>", json[3].GetString(), StringComparison.Ordinal);
        Assert.Equal(0, backend.WriteBack.Stats.Pending);
    }

    /// <summary>
    /// A presigned URL is used outside the node, straight against storage, so the backend hands it out only once the
    /// acknowledged writes it could see or overtake have landed (Presigning.FlushPendingWritesAsync): with storage down,
    /// a presigned GET of a key whose put waits in the spool, and a form upload (PostObject) over a prefix holding one,
    /// are not answered; once storage is up they are, and the GET URL reads the acknowledged write. With the flush
    /// removed once, the GET URL came back while the write was pending and this failed.
    /// </summary>
    [Fact]
    public async Task A_presigned_url_is_handed_out_only_once_the_pending_write_it_names_has_landed()
    {
        var backend = NewBackend();
        var put = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            a = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/pre/a.txt"}, b"acknowledged before the URL")[0]
            b = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/form/b.txt"}, b"under the form's prefix")[0]
            emit([a, b])
            """);
        Assert.Equal("[200, 200]", put.Json.GetRawText());
        Assert.Equal(2, backend.WriteBack!.Stats.Pending);

        var get = RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            s, m, _ = call("GeneratePresignedUrl", {"Operation": "GetObject", "Bucket": "{{Bucket}}", "Key": "fn/pre/a.txt"})
            emit([s, m.get("Url")])
            """);
        var post = RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            s, m, _ = call("GeneratePresignedUrl", {"Operation": "PostObject", "Bucket": "{{Bucket}}", "Key": "fn/form/${filename}"})
            emit([s])
            """);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.False(get.IsCompleted, "a presigned GET was handed out while the write of its key was still pending");
        Assert.False(post.IsCompleted, "a presigned POST was handed out while a write under its prefix was still pending");

        await StartStoreAsync();
        var url = (await get).Json;
        Assert.Equal(200, url[0].GetInt32());
        Assert.Equal(200, (await post).Json[0].GetInt32());
        using var http = new HttpClient();
        Assert.Equal("acknowledged before the URL", await http.GetStringAsync(new Uri(url[1].GetString()!)));
    }

    [Fact]
    public async Task A_sync_function_is_acknowledged_only_once_storage_has_the_object()
    {
        await StartStoreAsync();
        var backend = NewBackend();
        var manifest = NodeUnderTest.Manifest() with { WriteBack = WriteBackMode.Sync };
        var result = await RunAsync(backend, manifest, $$"""
            emit(call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/sync.txt"}, b"now")[0])
            """);
        Assert.Equal(200, result.Json.GetInt32());
        Assert.Equal(0, backend.WriteBack!.Stats.Pending);
        Assert.Empty(SpoolJournal.Scan(Spool));
        using var admin = Admin();
        Assert.Equal("now", System.Text.Encoding.UTF8.GetString(await GetAsync(admin, "fn/sync.txt")));
    }

    /// <summary>
    /// A spool whose disk has no room for a segment (a real 4 MiB tmpfs under a 16 MiB segment) takes no write: each put
    /// goes to storage synchronously, its body still unread, and no half-made segment is left. Before, the put failed as an
    /// internal-error incident and the half-made segment stayed (an operator's review, the home's disk full).
    /// </summary>
    [Fact]
    public async Task A_spool_without_room_sends_puts_to_storage_and_leaves_no_half_made_segment()
    {
        await StartStoreAsync();
        using var disk = SmallTmpfs.Mount(Spool, "4m");
        var backend = NewBackend();
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            data = bytes(300_000)
            emit([call("PutObject", {"Bucket": "{{Bucket}}", "Key": f"fn/full-{i}.bin"}, data)[0] for i in range(3)])
            """);
        Assert.Equal([200, 200, 200], result.Json.EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(3, backend.WriteBack!.Stats.SyncFallbacks);
        Assert.Empty(Directory.EnumerateFiles(Spool, "*.nxwj"));
        using var admin = Admin();
        Assert.Equal(300_000, (await GetAsync(admin, "fn/full-2.bin")).Length);
        await DisposeBackendAsync(backend);
    }

    [Fact]
    public async Task A_write_beyond_the_spool_cap_goes_to_storage_before_it_is_acknowledged()
    {
        // Storage is down: a write the spool takes is acknowledged, one beyond the cap fails like a sync write.
        var backend = NewBackend(drainTimeout: TimeSpan.Zero, maxSpoolBytes: 1000);
        var result = await RunAsync(backend, NodeUnderTest.Manifest(), $$"""
            small = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/small"}, b"s" * 600)[0]
            big = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/big"}, b"b" * 600)[0]
            emit([small, big])
            """);
        Assert.Equal(200, result.Json[0].GetInt32());
        Assert.NotEqual(200, result.Json[1].GetInt32());
        var stats = backend.WriteBack!.Stats;
        Assert.Equal(1, stats.SyncFallbacks);
        Assert.Equal(1, stats.Pending);
        Assert.Equal(600, stats.PendingBytes);
        Assert.Single(SpoolJournal.Scan(Spool));
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _port.Dispose();
        foreach (var backend in _backends.ToArray())
        {
            await DisposeBackendAsync(backend);
        }

        await _host.DisposeAsync();

        if (_store is not null)
        {
            await _store.DisposeAsync();
        }

        Directory.Delete(_root, recursive: true);
    }


    private static async Task<byte[]> ReadAllAsync(Stream stream)
    {
        using var copy = new MemoryStream();
        await stream.CopyToAsync(copy);
        return copy.ToArray();
    }

    private static async Task<byte[]> GetAsync(AmazonS3Client admin, string key)
    {
        using var response = await admin.GetObjectAsync(Bucket, key);
        return await ReadAllAsync(response.ResponseStream);
    }

    private NexusBackend NewBackend(TimeSpan? drainTimeout = null, long maxSpoolBytes = 2L << 30, Action<string>? log = null)
    {
        var backend = new NexusBackend(new NexusBackendOptions
        {
            MaxSpoolBytes = maxSpoolBytes,
            ServiceUrl = StoreUrl,
            AccessKey = NodeUnderTest.AccessKey,
            SecretKey = NodeUnderTest.SecretKey,
            SpoolDirectory = Spool,
            DrainTimeout = drainTimeout ?? TimeSpan.FromMinutes(1),
            Log = log ?? (_ => { }),
        });
        _backends.Add(backend);
        return backend;
    }

    private async Task DisposeBackendAsync(NexusBackend backend)
    {
        _backends.Remove(backend);
        await backend.DisposeAsync();
    }

    /// <summary>
    /// Starts the store at <see cref="StoreUrl"/> with <see cref="Bucket"/> already in it. The bucket is made first by a
    /// store on another port: a backend retrying uploads would otherwise reach the store before the bucket existed, find
    /// it missing, and (rightly) dead-letter its writes.
    /// </summary>
    private async Task StartStoreAsync()
    {
        var data = Path.Combine(_root, "store");
        await using (var setup = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = data, Urls = ["http://127.0.0.1:0"] }, _credentials))
        {
            using var admin = Admin(setup.BoundAddresses[0].ToString());
            await admin.PutBucketAsync(Bucket);
        }

        _port.Release();
        _store = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = data, Urls = [StoreUrl] }, _credentials);
    }

    private AmazonS3Client Admin(string? url = null) => new(new BasicAWSCredentials(NodeUnderTest.AccessKey, NodeUnderTest.SecretKey), new AmazonS3Config
    {
        ServiceURL = url ?? StoreUrl,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        UseHttp = true,
    });

    private async Task<PythonSandbox.Result> RunAsync(NexusBackend backend, FunctionManifest manifest, string script)
    {
        var session = ServedChannel.Open(_host, backend, manifest, new ChannelOptions { RegionSize = 16 << 20, SlotSize = 1 << 20 });
        try
        {
            var result = await PythonSandbox.RunAsync(session.Channel, PythonSandbox.Prelude + script);
            Assert.True(result.ExitCode == 0, result.ToString());
            return result;
        }
        finally
        {
            await session.DisposeAsync();
        }
    }
}
