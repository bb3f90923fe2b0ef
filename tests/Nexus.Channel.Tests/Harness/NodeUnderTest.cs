// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend;
using Nexus.Backend.Storage;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Store;

namespace Nexus.Testing.Channel;

/// <summary>A real embedded store, a real backend, and helpers to attach channels and run Python sandboxes on them.</summary>
public sealed class NodeUnderTest : IAsyncDisposable
{
    public const string Bucket = "nexus-test";
    public const string OtherBucket = "other-bucket";
    public const string AccessKey = "nexus-admin";
    public const string SecretKey = "nexus-admin-secret";

    private readonly string _dataDirectory;
    private readonly List<ServedChannel> _served = [];

    private NodeUnderTest(string dataDirectory, S3StoreServer store, ChannelServiceHost host, NexusBackend backend, AmazonS3Client admin)
    {
        _dataDirectory = dataDirectory;
        Store = store;
        Host = host;
        Backend = backend;
        Admin = admin;
    }

    /// <summary>Serves the channels (as the node's does).</summary>
    public ChannelServiceHost Host { get; }

    public S3StoreServer Store { get; }

    public NexusBackend Backend { get; }

    /// <summary>A direct S3 client (test set-up and checks; never given to a sandbox).</summary>
    public AmazonS3Client Admin { get; }

    public string StoreUrl => Store.BoundAddresses[0].ToString().TrimEnd('/');

    public static async Task<NodeUnderTest> StartAsync(
        TimeSpan? stallTimeout = null, Func<NexusBackendOptions, NexusBackendOptions>? configure = null, Func<ChannelSessionOptions, ChannelSessionOptions>? session = null)
    {
        var dir = Directory.CreateTempSubdirectory("nexus-channel-test-").FullName;
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(AccessKey, SecretKey));
        var store = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = dir, Urls = ["http://127.0.0.1:0"], Durable = false }, credentials);
        var url = store.BoundAddresses[0].ToString().TrimEnd('/');
        var sessionOptions = new ChannelSessionOptions { SandboxStallTimeout = stallTimeout ?? TimeSpan.FromSeconds(30) };
        var host = new ChannelServiceHost(session?.Invoke(sessionOptions) ?? sessionOptions);
        var options = new NexusBackendOptions
        {
            ServiceUrl = url,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
        };
        var backend = new NexusBackend(configure?.Invoke(options) ?? options);
        var admin = new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
        {
            ServiceURL = url,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            UseHttp = true,
        });
        await admin.PutBucketAsync(Bucket);
        await admin.PutBucketAsync(OtherBucket);
        return new NodeUnderTest(dir, store, host, backend, admin);
    }

    /// <summary>A function allowed to read and write <see cref="Bucket"/>/fn/ and read <see cref="Bucket"/>/shared/.</summary>
    public static FunctionManifest Manifest(string name = "test-fn") => new()
    {
        Name = name,
        Handler = "handler.handler",
        Storage =
        [
            new StorageGrant(Bucket, "fn/", StorageAccess.ReadWrite),
            new StorageGrant(Bucket, "shared/", StorageAccess.Read),
        ],
    };

    /// <summary>A new channel whose session serves the backend's storage operations; both are cleaned up with this object.</summary>
    public ServedChannel Attach(ChannelOptions? options = null, FunctionManifest? manifest = null)
    {
        var served = ServedChannel.Open(Host, Backend, manifest ?? Manifest(), options ?? new ChannelOptions { RegionSize = 16 << 20, SlotSize = 1 << 20 });
        _served.Add(served);
        return served;
    }

    public async Task PutAsync(string key, byte[] data, string bucket = Bucket) =>
        await Admin.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(data) });

    public async Task<byte[]> GetAsync(string key, string bucket = Bucket)
    {
        using var response = await Admin.GetObjectAsync(bucket, key);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var s in _served)
        {
            await s.DisposeAsync();
        }

        await Host.DisposeAsync();
        await Backend.DisposeAsync();

        Admin.Dispose();
        await Store.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}

/// <summary>
/// A process channel served as the node serves one: a session on <c>host</c> with the backend's storage service (and
/// whatever else <c>registerMore</c> adds), started.
/// </summary>
public sealed class ServedChannel : IAsyncDisposable
{
    private ServedChannel(ProcessChannel channel, ChannelSession session, StorageService storage)
    {
        Channel = channel;
        Session = session;
        Storage = storage;
    }

    public ProcessChannel Channel { get; }

    public ChannelSession Session { get; }

    public StorageService Storage { get; }

    public static ServedChannel Open(ChannelServiceHost host, NexusBackend backend, FunctionManifest manifest, ChannelOptions? options = null, Action<ChannelSession>? registerMore = null)
    {
        var channel = new ProcessChannel(options ?? new ChannelOptions());
        var session = host.Open(channel.Host);
        var storage = backend.Serve(session, manifest);
        registerMore?.Invoke(session);
        session.Start();
        return new ServedChannel(channel, session, storage);
    }

    public void Deconstruct(out ProcessChannel channel, out ChannelSession session) => (channel, session) = (Channel, Session);

    public async ValueTask DisposeAsync()
    {
        await Session.DisposeAsync();
        Channel.Dispose();
    }
}
