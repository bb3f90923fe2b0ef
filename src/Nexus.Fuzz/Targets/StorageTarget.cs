// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Backend;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Store;

namespace Nexus.Fuzz.Targets;

/// <summary>
/// Every storage operation a sandbox may call, with hostile parameters, through the node's real path: a
/// <see cref="ChannelServiceHost"/> session served by a <see cref="NexusBackend"/> in front of the embedded store (its
/// own process-local HTTP server on loopback), reached through a C# <see cref="SandboxEnd"/>. The framing is valid; what
/// is mutated is the operation's JSON parameters and the body's length. Input: byte 0 picks the operation, byte 1 is the
/// body's length, the rest is the parameter header. A crash is: an answer that is an internal error (a host exception
/// the validation did not turn into a 4xx), an unexpected exception reported by the channel, an answer chunk outside its
/// slot, or the session closed (the framing is valid, so only a host fault closes it). The generic path
/// (<c>ServiceRequest</c>) is left out: it signs requests for other AWS services, whose endpoints are not on loopback.
/// </summary>
public sealed class StorageTarget : IFuzzTarget
{
    private const string Bucket = "fuzz";
    private const string AccessKey = "nexus-fuzz";
    private const string SecretKey = "nexus-fuzz-secret";
    private const int MaxHeaderBytes = 1024;

    private static readonly ChannelOp[] s_ops =
    [
        ChannelOp.GetObject, ChannelOp.PutObject, ChannelOp.HeadObject, ChannelOp.DeleteObject, ChannelOp.DeleteObjects,
        ChannelOp.ListObjectsV2, ChannelOp.CopyObject, ChannelOp.HeadBucket, ChannelOp.ListBuckets, ChannelOp.GetObjectTagging,
        ChannelOp.PutObjectTagging, ChannelOp.DeleteObjectTagging, ChannelOp.CreateBucket, ChannelOp.CreateMultipartUpload,
        ChannelOp.UploadPart, ChannelOp.CompleteMultipartUpload, ChannelOp.AbortMultipartUpload, ChannelOp.ListParts,
        ChannelOp.GeneratePresignedUrl,
    ];

    private readonly string _directory = Directory.CreateTempSubdirectory("nexus-fuzz-storage-").FullName;
    private readonly List<string> _incidents = [];
    private readonly S3StoreServer _store;
    private readonly NexusBackend _backend;
    private readonly ChannelServiceHost _host;
    private readonly ProcessChannel _channel;
    private readonly ChannelSession _session;
    private readonly SandboxEnd _sandbox;
    private readonly byte[] _body = [.. Enumerable.Range(0, 256).Select(i => (byte)i)];
    private ulong _nextId;

    public StorageTarget()
    {
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(AccessKey, SecretKey));
        _store = S3StoreServer.StartAsync(new StoreOptions { DataDirectory = _directory, Urls = ["http://127.0.0.1:0"], Durable = false }, credentials).GetAwaiter().GetResult();
        _backend = new NexusBackend(new NexusBackendOptions { ServiceUrl = _store.BoundAddresses[0].ToString().TrimEnd('/'), AccessKey = AccessKey, SecretKey = SecretKey });
        _host = new ChannelServiceHost(new ChannelSessionOptions
        {
            SandboxStallTimeout = TimeSpan.FromSeconds(10),
            ReportInternalError = (incident, op, e) =>
            {
                lock (_incidents)
                {
                    _incidents.Add($"incident {incident} serving {op}: {e}");
                }
            },
        });
        _channel = new ProcessChannel(new ChannelOptions { RegionSize = 1 << 20, RingEntries = 16, SlotSize = 16 << 10 }, "nexus-fuzz-storage");
        _session = _host.Open(_channel.Host);
        _backend.Serve(_session, new FunctionManifest
        {
            Name = "fuzz-fn",
            Handler = "handler.handler",
            Storage = [new StorageGrant(Bucket, "fn/", StorageAccess.ReadWrite), new StorageGrant(Bucket, "shared/", StorageAccess.Read)],
        });
        _session.Start();
        _sandbox = new SandboxEnd(_channel);

        // The bucket as an operator makes it (a function may not: its grant is a prefix), then an object and two multipart
        // uploads for the seeds to find, made through the target itself.
        using (var admin = new Amazon.S3.AmazonS3Client(
            new Amazon.Runtime.BasicAWSCredentials(AccessKey, SecretKey),
            new Amazon.S3.AmazonS3Config { ServiceURL = _store.BoundAddresses[0].ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", UseHttp = true }))
        {
            admin.PutBucketAsync(Bucket).GetAwaiter().GetResult();
        }

        var plain = SeedParameters().Select(p => Seed(p.Op, p.BodyBytes, p.Json)).ToList();
        Execute(plain[0]);
        var completed = StartUpload("fn/m");
        var aborted = StartUpload("fn/n");
        Seeds = [.. plain, .. MultipartSeedParameters(completed, aborted).Select(p => Seed(p.Op, p.BodyBytes, p.Json))];
    }

    public string Name => "storage";

    public IReadOnlyList<byte[]> Seeds { get; }

    public IReadOnlyList<ulong> InterestingValues { get; } = [0, 1, 1000, 1001, 10_000, 5UL << 30, uint.MaxValue, '"', '{', '[', '\\'];

    public int MaxInputLength => 2 + MaxHeaderBytes;

    public FuzzOutcome Execute(ReadOnlySpan<byte> input)
    {
        var op = s_ops[(input.IsEmpty ? 0 : input[0]) % s_ops.Length];
        var bodyLength = input.Length > 1 ? input[1] : 0;
        var header = input[Math.Min(2, input.Length)..];

        var id = ++_nextId;
        _sandbox.SubmitRequest(id, op, (long)_sandbox.RequestOffset, header, _body.AsSpan(0, bodyLength));
        var status = ReadAnswer(id, out var text);

        lock (_incidents)
        {
            var incidents = string.Join("\n", _incidents);
            _incidents.Clear();
            FuzzInvariantException.Check(incidents.Length == 0, $"{op}: the service failed with an unexpected exception: {incidents}");
        }

        FuzzInvariantException.Check(status != 500 || !text.Contains("internal error", StringComparison.Ordinal), $"{op}: answered with an internal error: {text}");
        return status is >= 200 and < 400 ? FuzzOutcome.Accepted : FuzzOutcome.Rejected;
    }

    public void Dispose()
    {
        _session.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _sandbox.Dispose();
        _channel.Dispose();
        _host.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _backend.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _store.DisposeAsync().AsTask().GetAwaiter().GetResult();
        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>The multipart calls on uploads the constructor started: one to complete, one to abort.</summary>
    private IEnumerable<(ChannelOp Op, int BodyBytes, string Json)> MultipartSeedParameters(string completed, string aborted)
    {
        var etag = Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(_body.AsSpan(0, 200)));
        return
        [
            (ChannelOp.UploadPart, 200, $$"""{"Bucket":"{{Bucket}}","Key":"fn/m","UploadId":"{{completed}}","PartNumber":1}"""),
            (ChannelOp.ListParts, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/m","UploadId":"{{completed}}"}"""),
            (ChannelOp.CompleteMultipartUpload, 0, $$$"""{"Bucket":"{{{Bucket}}}","Key":"fn/m","UploadId":"{{{completed}}}","MultipartUpload":{"Parts":[{"PartNumber":1,"ETag":"\"{{{etag}}}\""}]}}"""),
            (ChannelOp.AbortMultipartUpload, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/n","UploadId":"{{aborted}}"}"""),
        ];
    }

    private static IEnumerable<(ChannelOp Op, int BodyBytes, string Json)> SeedParameters() =>
    [
        (ChannelOp.PutObject, 100, $$$"""{"Bucket":"{{{Bucket}}}","Key":"fn/a","ContentType":"text/plain","Metadata":{"k":"v"}}"""),
        (ChannelOp.GetObject, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/a","Range":"bytes=1-9"}"""),
        (ChannelOp.HeadObject, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/a"}"""),
        (ChannelOp.DeleteObject, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/gone"}"""),
        (ChannelOp.DeleteObjects, 0, $$$"""{"Bucket":"{{{Bucket}}}","Delete":{"Objects":[{"Key":"fn/x"},{"Key":"fn/y"}],"Quiet":true}}"""),
        (ChannelOp.ListObjectsV2, 0, $$"""{"Bucket":"{{Bucket}}","Prefix":"fn/","Delimiter":"/","MaxKeys":10}"""),
        (ChannelOp.CopyObject, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/b","CopySource":"{{Bucket}}/fn/a","MetadataDirective":"COPY"}"""),
        (ChannelOp.HeadBucket, 0, $$"""{"Bucket":"{{Bucket}}"}"""),
        (ChannelOp.ListBuckets, 0, "{}"),
        (ChannelOp.PutObjectTagging, 0, $$$"""{"Bucket":"{{{Bucket}}}","Key":"fn/a","Tagging":{"TagSet":[{"Key":"t","Value":"1"}]}}"""),
        (ChannelOp.GetObjectTagging, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/a"}"""),
        (ChannelOp.DeleteObjectTagging, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/a"}"""),
        (ChannelOp.CreateMultipartUpload, 0, $$"""{"Bucket":"{{Bucket}}","Key":"fn/m"}"""),
        (ChannelOp.GeneratePresignedUrl, 0, $$"""{"Operation":"GetObject","Bucket":"{{Bucket}}","Key":"fn/a","ExpiresIn":60}"""),
        (ChannelOp.GeneratePresignedUrl, 0, $$"""{"Operation":"PostObject","Bucket":"{{Bucket}}","Key":"fn/form","Fields":{"Content-Type":"text/plain"},"Conditions":[["content-length-range",1,1000]]}"""),
    ];

    private static byte[] Seed(ChannelOp op, int bodyBytes, string json)
    {
        var header = Encoding.UTF8.GetBytes(json);
        return [(byte)Array.IndexOf(s_ops, op), (byte)bodyBytes, .. header];
    }

    /// <summary>Starts a multipart upload of <paramref name="key"/> through the channel; its UploadId.</summary>
    private string StartUpload(string key)
    {
        var id = ++_nextId;
        _sandbox.SubmitRequest(id, ChannelOp.CreateMultipartUpload, (long)_sandbox.RequestOffset, Encoding.UTF8.GetBytes($$"""{"Bucket":"{{Bucket}}","Key":"{{key}}"}"""), []);
        var status = ReadAnswer(id, out var text);
        using var answer = System.Text.Json.JsonDocument.Parse(text);
        return status == 200 && answer.RootElement.TryGetProperty("UploadId", out var upload) && upload.GetString() is { } uploadId
            ? uploadId
            : throw new InvalidOperationException($"the fuzz target could not start a multipart upload: {status} {text}");
    }

    /// <summary>Reads the answer to request <paramref name="id"/> to its last chunk, returning each slot; its status and first chunk's text.</summary>
    private int ReadAnswer(ulong id, out string text)
    {
        int? status = null;
        text = "";
        while (true)
        {
            ChannelRecord answer;
            try
            {
                answer = _sandbox.NextCompletion();
            }
            catch (ChannelClosedException)
            {
                throw new FuzzInvariantException($"the host closed a channel whose framing is valid: {_session.CloseReason}");
            }

            if (answer.Op == ChannelOp.DataAck)
            {
                continue;
            }

            FuzzInvariantException.Check(answer.RequestId == id, $"an answer to request {answer.RequestId} while {id} was outstanding");
            if (answer.Slot != ChannelRecord.NoSlot)
            {
                var chunk = _sandbox.Chunk(answer);
                if (status is null)
                {
                    text = Encoding.UTF8.GetString(chunk[..Math.Min(chunk.Length, (int)Math.Min(answer.HeaderLength, 4096))]);
                }

                _sandbox.Submit(new ChannelRecord { Op = ChannelOp.Release, Slot = answer.Slot }, ring: true);
            }

            status ??= answer.Status;
            if ((answer.Flags & ChannelFlags.More) == 0)
            {
                return status.Value;
            }
        }
    }
}
