// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend;
using Nexus.Channel;
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
    private readonly List<IAsyncDisposable> _sessions = [];
    private readonly List<HostChannel> _channels = [];

    private NodeUnderTest(string dataDirectory, S3StoreServer store, NexusBackend backend, AmazonS3Client admin)
    {
        _dataDirectory = dataDirectory;
        Store = store;
        Backend = backend;
        Admin = admin;
    }

    public S3StoreServer Store { get; }

    public NexusBackend Backend { get; }

    /// <summary>A direct S3 client (test set-up and checks; never given to a sandbox).</summary>
    public AmazonS3Client Admin { get; }

    public string StoreUrl => Store.BoundAddresses[0].ToString().TrimEnd('/');

    public static async Task<NodeUnderTest> StartAsync(TimeSpan? stallTimeout = null)
    {
        var dir = Directory.CreateTempSubdirectory("nexus-channel-test-").FullName;
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(AccessKey, SecretKey));
        var store = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = dir, Urls = ["http://127.0.0.1:0"], Durable = false }, credentials);
        var url = store.BoundAddresses[0].ToString().TrimEnd('/');
        var backend = new NexusBackend(new NexusBackendOptions
        {
            ServiceUrl = url,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            SandboxStallTimeout = stallTimeout ?? TimeSpan.FromSeconds(30),
        });
        var admin = new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
        {
            ServiceURL = url,
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            UseHttp = true,
        });
        await admin.PutBucketAsync(Bucket);
        await admin.PutBucketAsync(OtherBucket);
        return new NodeUnderTest(dir, store, backend, admin);
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

    /// <summary>A new channel attached to the backend; both are cleaned up with this object.</summary>
    public (HostChannel Channel, InstanceSession Session) Attach(ChannelOptions? options = null, FunctionManifest? manifest = null)
    {
        var channel = new HostChannel(options ?? new ChannelOptions { RegionSize = 16 << 20, SlotSize = 1 << 20 });
        var session = Backend.Attach(channel, manifest ?? Manifest());
        _channels.Add(channel);
        _sessions.Add(session);
        return (channel, session);
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
        foreach (var s in _sessions)
        {
            await s.DisposeAsync();
        }

        await Backend.DisposeAsync();
        foreach (var c in _channels)
        {
            c.Dispose();
        }

        Admin.Dispose();
        await Store.DisposeAsync();
        Directory.Delete(_dataDirectory, recursive: true);
    }
}
