// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Testing;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// A store that does not decode aws-chunked bodies (s3rver 3.7.1, an S3 implementation nobody here wrote, installed by
/// scripts/setup) keeps the chunk frames in the object. With <see cref="NexusBackendOptions.ChunkedUploads"/> off,
/// every way the backend uploads (write-back from the spool, a synchronous put, a multipart part) must land the
/// function's exact bytes there. With it on, the objects differ from what was sent (checked once).
/// </summary>
public sealed class UnchunkedUploadTests : IAsyncLifetime
{
    private const string S3rverScript = "/opt/nexus/s3rver/node_modules/s3rver/bin/s3rver.js";
    private const string Bucket = NodeUnderTest.Bucket;

    private readonly string _root = Directory.CreateTempSubdirectory("nexus-unchunked-test-").FullName;
    private readonly ReservedPort _port = new();
    private readonly ChannelServiceHost _host = new();
    private Process? _s3rver;

    private string StoreUrl => $"http://127.0.0.1:{_port.Port}";

    public async Task InitializeAsync()
    {
        Assert.True(File.Exists(S3rverScript), $"s3rver is not installed at {S3rverScript}: run scripts/setup");
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { S3rverScript, "-d", Path.Combine(_root, "s3rver"), "-a", "127.0.0.1", "-p", _port.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--silent", "--no-vhost-buckets" })
        {
            start.ArgumentList.Add(arg);
        }

        _port.Release();
        _s3rver = Process.Start(start)!;
        using var admin = Admin();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await admin.PutBucketAsync(Bucket);
                return;
            }
            catch (Exception e) when (e is HttpRequestException or AmazonServiceException && DateTime.UtcNow < deadline && !_s3rver.HasExited)
            {
                await Task.Delay(200);
            }
        }
    }

    public async Task DisposeAsync()
    {
        _port.Dispose();
        if (_s3rver is { HasExited: false })
        {
            _s3rver.Kill(entireProcessTree: true);
            _s3rver.WaitForExit();
        }

        _s3rver?.Dispose();
        await _host.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }

    [Fact]
    public async Task Written_back_synchronous_and_multipart_uploads_land_the_exact_bytes_in_a_store_without_aws_chunked()
    {
        await using var backend = new NexusBackend(new NexusBackendOptions
        {
            ServiceUrl = StoreUrl,
            AccessKey = "S3RVER",
            SecretKey = "S3RVER",
            SpoolDirectory = Path.Combine(_root, "spool"),
            RevalidatePrefetches = true,
            ChunkedUploads = false,
            Log = _ => { },
        });

        var session = ServedChannel.Open(_host, backend, NodeUnderTest.Manifest() with { WriteBack = WriteBackMode.Async }, new ChannelOptions { RegionSize = 16 << 20, SlotSize = 1 << 20 });
        PythonSandbox.Result result;
        try
        {
            result = await PythonSandbox.RunAsync(session.Channel, PythonSandbox.Prelude + $$"""
                import random
                spooled = random.Random(1).randbytes(300_000)
                direct = random.Random(2).randbytes(200_000)
                part = random.Random(3).randbytes(5 << 20)
                s1, m1, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/spooled"}, spooled)
                # Put options the spool does not carry make the put synchronous.
                s2, m2, _ = call("PutObject", {"Bucket": "{{Bucket}}", "Key": "fn/direct", "CacheControl": "no-cache"}, direct)
                s, m, _ = call("CreateMultipartUpload", {"Bucket": "{{Bucket}}", "Key": "fn/parts"})
                uid = m["UploadId"]
                s3, m3, _ = call("UploadPart", {"Bucket": "{{Bucket}}", "Key": "fn/parts", "UploadId": uid, "PartNumber": 1}, part)
                s4, m4, _ = call("CompleteMultipartUpload", {"Bucket": "{{Bucket}}", "Key": "fn/parts", "UploadId": uid,
                                                            "MultipartUpload": {"Parts": [{"ETag": m3["ETag"], "PartNumber": 1}]} })
                emit({"status": [s1, s2, s3, s4], "etags": [m1["ETag"], m2["ETag"]],
                      "md5": [hashlib.md5(spooled).hexdigest(), hashlib.md5(direct).hexdigest(), hashlib.md5(part).hexdigest()]})
                """);
            Assert.True(result.ExitCode == 0, result.ToString());
        }
        finally
        {
            await session.DisposeAsync();
        }

        Assert.Equal([200, 200, 200, 200], result.Json.GetProperty("status").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(0, await backend.WriteBack!.DrainAsync(TimeSpan.FromMinutes(1)));

        // What the function sent, byte for byte (the MD5s it computed), and the ETags it was told are the store's.
        var sent = result.Json.GetProperty("md5").EnumerateArray().Select(e => e.GetString()).ToArray();
        using var admin = Admin();
        Assert.Equal(sent[0], await StoredMd5Async(admin, "fn/spooled"));
        Assert.Equal(sent[1], await StoredMd5Async(admin, "fn/direct"));
        Assert.Equal(sent[2], await StoredMd5Async(admin, "fn/parts"));
        Assert.Equal($"\"{sent[0]}\"", result.Json.GetProperty("etags")[0].GetString());
        Assert.Equal($"\"{sent[1]}\"", result.Json.GetProperty("etags")[1].GetString());
    }


    private static async Task<string> StoredMd5Async(AmazonS3Client admin, string key)
    {
        using var response = await admin.GetObjectAsync(Bucket, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return Convert.ToHexStringLower(MD5.HashData(copy.ToArray()));
    }

    private AmazonS3Client Admin() => new(new BasicAWSCredentials("S3RVER", "S3RVER"), new AmazonS3Config
    {
        ServiceURL = StoreUrl,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        UseHttp = true,
        MaxErrorRetry = 0,
    });
}
