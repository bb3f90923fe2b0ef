// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime;
using Amazon.S3;
using Nexus.Backend;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Store;

namespace Nexus.Benchmarks;

/// <summary>
/// The embedded S3 store on a loopback port, a backend in front of it (with a write-back spool) and one instance's
/// channel served by that backend, reached through a C# <see cref="SandboxEnd"/>: the storage path of a nexus-mode
/// function without a Python interpreter in the measurement.
/// </summary>
internal sealed class StoreFixture : IAsyncDisposable
{
    public const string Bucket = "nexus-bench";
    private const string AccessKey = "AKIABENCHMARK";
    private const string SecretKey = "benchmark-secret";

    private readonly string _root = Directory.CreateTempSubdirectory("nexus-storage-bench-").FullName;
    private readonly ChannelServiceHost _host = new();
    private S3StoreServer _store = null!;
    private NexusBackend _backend = null!;
    private ProcessChannel _channel = null!;
    private ChannelSession _session = null!;
    private ulong _nextId;

    /// <summary>A client of the store with the backend's own settings (the path without channel and backend).</summary>
    public AmazonS3Client Direct { get; private set; } = null!;

    public SandboxEnd Sandbox { get; private set; } = null!;

    public static async Task<StoreFixture> StartAsync(WriteBackMode writeBack)
    {
        var fixture = new StoreFixture();
        await fixture.InitializeAsync(writeBack);
        return fixture;
    }

    /// <summary>Sends one request (a single chunk: header JSON, then body) and waits for its answer's first chunk.</summary>
    public ChannelRecord Call(ChannelOp op, ReadOnlySpan<byte> header, ReadOnlySpan<byte> body)
    {
        Sandbox.SubmitRequest(++_nextId, op, Sandbox.Layout.RequestAreaOffset, header, body);
        return Sandbox.NextCompletion();
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        await _host.DisposeAsync();
        await _backend.DisposeAsync();
        await _store.DisposeAsync();
        Sandbox.Dispose();
        _channel.Dispose();
        Direct.Dispose();
        Directory.Delete(_root, recursive: true);
    }

    private async Task InitializeAsync(WriteBackMode writeBack)
    {
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(AccessKey, SecretKey));
        _store = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = Path.Combine(_root, "store"), Urls = ["http://127.0.0.1:0"] }, credentials);
        var url = _store.BoundAddresses[0].ToString().TrimEnd('/');
        _backend = new NexusBackend(new NexusBackendOptions
        {
            ServiceUrl = url,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            SpoolDirectory = Path.Combine(_root, "spool"),
            Log = _ => { },
        });
        Direct = new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config { ServiceURL = url, ForcePathStyle = true, AuthenticationRegion = "us-east-1", UseHttp = true });
        await Direct.PutBucketAsync(Bucket);
        var manifest = new FunctionManifest
        {
            Name = "storage-bench",
            Handler = "handler.handler",
            Io = IoMode.Nexus,
            WriteBack = writeBack,
            Storage = [new StorageGrant(Bucket, "fn/", StorageAccess.ReadWrite)],
        };
        _channel = new ProcessChannel();
        _session = _host.Open(_channel.Host);
        _backend.Serve(_session, manifest);
        _session.Start();
        Sandbox = new SandboxEnd(_channel);
    }
}
