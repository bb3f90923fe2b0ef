// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime;
using Amazon.S3;

namespace Nexus.Store.Tests;

/// <summary>A store on 127.0.0.1 port 0 with a fresh data directory, and clients for it.</summary>
public sealed class StoreFixture : IAsyncLifetime
{
    public const string AccessKey = "AKIDNEXUSTESTROOT";
    public const string SecretKey = "nexus-test-secret/abc+def";
    public const string ScopedAccessKey = "AKIDNEXUSTESTSCOPED";
    public const string ScopedSecretKey = "scoped-secret";
    public const string ScopedBucket = "scoped";
    public const string ScopedPrefix = "allowed/";

    private S3StoreServer? _server;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "nexus-store-test-" + Guid.NewGuid().ToString("N"));

    public StoreCredentials Credentials { get; } = new();

    public Uri Endpoint => _server!.BoundAddresses[0];

    public S3StoreServer Server => _server!;

    public async Task InitializeAsync()
    {
        Credentials.Add(new StoreCredential(AccessKey, SecretKey));

        // A function-style key: read and write only under scoped/allowed/.
        Credentials.Add(new StoreCredential(ScopedAccessKey, ScopedSecretKey, scope =>
            scope.Bucket == ScopedBucket && scope.Key is not null && scope.Key.StartsWith(ScopedPrefix, StringComparison.Ordinal)));
        await StartAsync();
    }

    public async Task StartAsync()
    {
        _server = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = DataDirectory, Urls = ["http://127.0.0.1:0"] }, Credentials);
    }

    public async Task StopAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
            _server = null;
        }
    }

    public AmazonS3Client Client(string accessKey = AccessKey, string secretKey = SecretKey) =>
        new(new BasicAWSCredentials(accessKey, secretKey), new AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
        });

    /// <summary>
    /// A full-access client that sends and checks checksums only where the request asks for them, so a test states
    /// every checksum the store sees.
    /// </summary>
    public AmazonS3Client ChecksumClient() =>
        new(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config
        {
            ServiceURL = Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        });

    /// <summary>A new bucket named <paramref name="prefix"/> plus a random suffix.</summary>
    public static async Task<string> NewBucketAsync(AmazonS3Client client, string prefix)
    {
        var name = prefix + Guid.NewGuid().ToString("N")[..12];
        await client.PutBucketAsync(name);
        return name;
    }

    /// <summary>Creates bucket <paramref name="name"/> unless it exists (fixed names, such as the scoped key's bucket).</summary>
    public static async Task EnsureBucketAsync(AmazonS3Client client, string name)
    {
        try
        {
            await client.PutBucketAsync(name);
        }
        catch (AmazonS3Exception e) when (e.ErrorCode == "BucketAlreadyOwnedByYou")
        {
        }
    }

    public async Task DisposeAsync()
    {
        await StopAsync();
        if (Directory.Exists(DataDirectory))
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
    }
}
