// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Testing;

namespace Nexus.Store.Tests;

/// <summary>What a crash leaves behind is never served, and committed objects survive a restart (index rebuilt from disk).</summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class DurabilityTests : IAsyncLifetime
{
    private readonly StoreFixture _store = new();

    public Task InitializeAsync() => _store.InitializeAsync();

    public Task DisposeAsync() => _store.DisposeAsync();

    [Fact]
    public async Task InterruptedWriteIsNeitherListedNorServedAndIsCleanedAtStartUp()
    {
        using (var client = _store.Client())
        {
            await client.PutBucketAsync("durable");
            await client.PutObjectAsync(new PutObjectRequest { BucketName = "durable", Key = "kept", ContentBody = "committed" });
            await client.PutObjectAsync(new PutObjectRequest { BucketName = "durable", Key = "torn", ContentBody = "victim-body-of-a-torn-write" });
        }

        // While the store is down (the state a crash leaves): an interrupted PUT's half body in tmp/, never renamed
        // into objects/, and a committed object whose file lost its trailer (the disk kept only part of it). Only a
        // start-up rebuilds the index from disk, so only after one can these be checked.
        await _store.StopAsync();
        var tmp = Path.Combine(_store.DataDirectory, "tmp");
        var leftover = Path.Combine(tmp, Guid.NewGuid().ToString("N"));
        await File.WriteAllTextAsync(leftover, "half a bo");
        var objects = Path.Combine(_store.DataDirectory, "buckets", "durable", "objects");
        var tornFile = Directory.EnumerateFiles(objects, "*", SearchOption.AllDirectories)
            .Single(f => File.ReadAllText(f).Contains("victim-body", StringComparison.Ordinal));
        using (var file = new FileStream(tornFile, FileMode.Open, FileAccess.Write))
        {
            file.SetLength(file.Length - 5);
        }

        await _store.StartAsync();
        Assert.False(File.Exists(leftover));
        Assert.Empty(Directory.GetFileSystemEntries(tmp));

        using (var client = _store.Client())
        {
            var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "durable" });
            Assert.Equal(["kept"], listing.S3Objects.Select(o => o.Key));
            var missing = await Assert.ThrowsAnyAsync<AmazonS3Exception>(() => client.GetObjectAsync("durable", "torn"));
            Assert.Equal("NoSuchKey", missing.ErrorCode);
            using var kept = await client.GetObjectAsync("durable", "kept");
            Assert.Equal("committed", await new StreamReader(kept.ResponseStream).ReadToEndAsync());
        }

        // The damaged file left objects/ but was kept aside, not deleted.
        Assert.False(File.Exists(tornFile));
        Assert.Single(Directory.GetFiles(Path.Combine(_store.DataDirectory, "damaged")));
    }

    /// <summary>
    /// The data directory is the store's alone (0700): another local user cannot read an object past the store's access
    /// control. Objects were 0644 in 0755 folders, and user nobody read a root-only bucket's object with grep; with the
    /// mode change removed this failed. Run as root (it reads the file as nobody with runuser).
    /// </summary>
    [RootFact(runc: false)]
    public async Task AnotherLocalUserCannotReadTheStoresFiles()
    {
        using (var client = _store.Client())
        {
            await client.PutBucketAsync("private");
            await client.PutObjectAsync(new PutObjectRequest { BucketName = "private", Key = "secret.txt", ContentBody = "root-only secret" });
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(_store.DataDirectory));
        var file = Directory.EnumerateFiles(Path.Combine(_store.DataDirectory, "buckets", "private"), "*", SearchOption.AllDirectories)
            .Single(f => File.ReadAllText(f).Contains("root-only secret", StringComparison.Ordinal));
        var (exitCode, _, stderr) = await Processes.RunAsync("runuser", ["-u", "nobody", "--", "cat", file]);
        Assert.NotEqual(0, exitCode);
        Assert.Contains("Permission denied", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BucketsObjectsAndUploadsSurviveRestart()
    {
        string uploadId;
        using (var client = _store.Client())
        {
            await client.PutBucketAsync("restart");
            foreach (var key in new[] { "b", "a", "c/d" })
            {
                var put = new PutObjectRequest { BucketName = "restart", Key = key, ContentBody = key, ContentType = "text/x-" + key.Replace('/', '-'), TagSet = [new Tag { Key = "k", Value = key }] };
                put.Metadata.Add("k", key);
                await client.PutObjectAsync(put);
            }

            uploadId = (await client.InitiateMultipartUploadAsync("restart", "pending")).UploadId;
            await client.UploadPartAsync(new UploadPartRequest { BucketName = "restart", Key = "pending", UploadId = uploadId, PartNumber = 1, InputStream = new MemoryStream([1, 2, 3]) });
        }

        await _store.StopAsync();
        await _store.StartAsync();

        using (var client = _store.Client())
        {
            var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "restart" });
            Assert.Equal(["a", "b", "c/d"], listing.S3Objects.Select(o => o.Key));
            var head = await client.GetObjectMetadataAsync("restart", "c/d");
            Assert.Equal("text/x-c-d", head.Headers.ContentType);
            Assert.Equal("c/d", head.Metadata["k"]);
            var tags = await client.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = "restart", Key = "c/d" });
            Assert.Equal([("k", "c/d")], tags.Tagging.Select(t => (t.Key, t.Value)));
            var parts = await client.ListPartsAsync(new ListPartsRequest { BucketName = "restart", Key = "pending", UploadId = uploadId });
            Assert.Equal(3, parts.Parts.Single().Size);
            await client.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = "restart", Key = "pending", UploadId = uploadId, PartETags = [new PartETag(1, parts.Parts[0].ETag)] });
            using var completed = await client.GetObjectAsync("restart", "pending");
            Assert.Equal(3, completed.ContentLength);
        }
    }

    [Fact]
    public async Task TaggingNeverRevertsAConcurrentPut()
    {
        // Tagging rewrites the object file from a copy of the body; a PUT that lands meanwhile must win, or an
        // acknowledged write would silently be replaced by the older body.
        using var client = _store.Client();
        await client.PutBucketAsync("tagrace");
        var size = 2 << 20;
        await client.PutObjectAsync(new PutObjectRequest { BucketName = "tagrace", Key = "k", InputStream = new MemoryStream(new byte[size]) });
        for (var round = 1; round <= 10; round++)
        {
            var body = new byte[size];
            Array.Fill(body, (byte)round);
            var taggers = Enumerable.Range(0, 3).Select(i => client.PutObjectTaggingAsync(new PutObjectTaggingRequest
            {
                BucketName = "tagrace",
                Key = "k",
                Tagging = new Tagging { TagSet = [new Tag { Key = "round", Value = $"{round}-{i}" }] },
            }));
            var put = client.PutObjectAsync(new PutObjectRequest { BucketName = "tagrace", Key = "k", InputStream = new MemoryStream(body) });
            await Task.WhenAll([.. taggers, put]);
            using var got = await client.GetObjectAsync("tagrace", "k");
            using var copy = new MemoryStream();
            await got.ResponseStream.CopyToAsync(copy);
            Assert.True(copy.ToArray().AsSpan().SequenceEqual(body), $"round {round}: the body is not the last PUT's");
        }
    }

    [Fact]
    public async Task ConcurrentWritersToOneKeyLeaveOneWholeVersion()
    {
        using var client = _store.Client();
        await client.PutBucketAsync("race");
        var bodies = Enumerable.Range(0, 8).Select(i => new string((char)('a' + i), 200_000)).ToArray();
        var readers = Task.Run(async () =>
        {
            for (var i = 0; i < 30; i++)
            {
                try
                {
                    using var got = await client.GetObjectAsync("race", "k");
                    var text = await new StreamReader(got.ResponseStream).ReadToEndAsync();
                    Assert.Contains(text, bodies);
                }
                catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey")
                {
                }
            }
        });
        await Task.WhenAll(bodies.Select(body => client.PutObjectAsync(new PutObjectRequest { BucketName = "race", Key = "k", ContentBody = body })));
        await readers;
        using var final = await client.GetObjectAsync("race", "k");
        Assert.Contains(await new StreamReader(final.ResponseStream).ReadToEndAsync(), bodies);
        var listing = await client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = "race" });
        Assert.Equal(200_000, listing.S3Objects.Single().Size);
    }
}
