// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Nexus.Store.Tests;

/// <summary>
/// A standalone store's credential endpoint: a full-access key registers a function's key with its grants, the store
/// then enforces exactly those grants on that key, and nobody else may register or remove keys.
/// </summary>
public sealed class CredentialAdminTests : IAsyncLifetime
{
    private const string Admin = "AKIDADMINFULL";
    private const string AdminSecret = "admin-secret";
    private readonly string _data = Path.Combine(Path.GetTempPath(), "nexus-store-admin-" + Guid.NewGuid().ToString("N"));
    private readonly StoreCredentials _credentials = new();
    private S3StoreServer _server = null!;

    public async Task InitializeAsync()
    {
        _credentials.Add(new StoreCredential(Admin, AdminSecret));
        _server = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = _data, Urls = ["http://127.0.0.1:0"], CredentialAdmin = true }, _credentials);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_data, recursive: true);
    }

    [Fact]
    public async Task A_registered_key_gets_exactly_its_grants_until_it_is_removed()
    {
        using var admin = Client(Admin, AdminSecret);
        await admin.PutBucketAsync("inputs");
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = "inputs", Key = "in/a.txt", ContentBody = "a" });
        await admin.PutObjectAsync(new PutObjectRequest { BucketName = "inputs", Key = "secret/b.txt", ContentBody = "b" });

        using var keys = new StoreAdminClient(_server.BoundAddresses[0], Admin, AdminSecret);
        await keys.PutCredentialAsync("NXFFUNCTIONKEY1", "function-secret", [new StoreGrant("inputs", "in/", Read: true, Write: false), new StoreGrant("inputs", "out/", Read: false, Write: true)], CancellationToken.None);

        using var function = Client("NXFFUNCTIONKEY1", "function-secret");
        using (var read = await function.GetObjectAsync("inputs", "in/a.txt"))
        {
            Assert.Equal("a", await new StreamReader(read.ResponseStream).ReadToEndAsync());
        }

        await function.PutObjectAsync(new PutObjectRequest { BucketName = "inputs", Key = "out/c.txt", ContentBody = "c" });
        Assert.Equal("AccessDenied", (await Assert.ThrowsAsync<AmazonS3Exception>(() => function.GetObjectAsync("inputs", "secret/b.txt"))).ErrorCode);
        Assert.Equal("AccessDenied", (await Assert.ThrowsAsync<AmazonS3Exception>(() => function.PutObjectAsync(new PutObjectRequest { BucketName = "inputs", Key = "in/x.txt", ContentBody = "x" }))).ErrorCode);
        Assert.Equal("AccessDenied", (await Assert.ThrowsAsync<AmazonS3Exception>(() => function.PutBucketAsync("other-bucket"))).ErrorCode);

        // A scoped key may not manage keys, and the store's own full-access key cannot be replaced through the endpoint.
        using var asFunction = new StoreAdminClient(_server.BoundAddresses[0], "NXFFUNCTIONKEY1", "function-secret");
        var refused = await Assert.ThrowsAsync<IOException>(() => asFunction.PutCredentialAsync("NXFOTHER", "s", [new StoreGrant("inputs", "", true, true)], CancellationToken.None));
        Assert.Contains("403", refused.Message, StringComparison.Ordinal);
        Assert.Contains("AccessDenied", (await Assert.ThrowsAsync<IOException>(() => keys.PutCredentialAsync(Admin, "new", [], CancellationToken.None))).Message, StringComparison.Ordinal);

        await keys.DeleteCredentialAsync("NXFFUNCTIONKEY1", CancellationToken.None);
        Assert.Equal("InvalidAccessKeyId", (await Assert.ThrowsAsync<AmazonS3Exception>(() => function.GetObjectAsync("inputs", "in/a.txt"))).ErrorCode);
    }

    [Fact]
    public async Task A_malformed_registration_is_refused_and_registers_nothing()
    {
        using var keys = new StoreAdminClient(_server.BoundAddresses[0], Admin, AdminSecret);
        var bad = await Assert.ThrowsAsync<IOException>(() => keys.PutCredentialAsync("NXFBAD", "s", [new StoreGrant("No_Such/Bucket", "", true, false)], CancellationToken.None));
        Assert.Contains("InvalidBucketName", bad.Message, StringComparison.Ordinal);
        Assert.False(_credentials.TryGet("NXFBAD", out _));
    }

    /// <summary>
    /// Guards the SigV4-only rule of credential management: SigV2 signs no body and no host, so a replayed or altered
    /// SigV2 request could register a key with grants its signer never wrote.
    /// </summary>
    [Fact]
    public async Task Credentials_cannot_be_managed_with_a_sigv2_signature()
    {
        using var keys = new StoreAdminClient(_server.BoundAddresses[0], Admin, AdminSecret);
        await keys.PutCredentialAsync("NXFKEPT", "kept-secret", [new StoreGrant("inputs", "in/", Read: true, Write: false)], CancellationToken.None);

        const string path = S3Handler.CredentialsPath + "NXFKEPT";
        var date = DateTimeOffset.UtcNow.ToString("r", System.Globalization.CultureInfo.InvariantCulture);
        using var delete = new HttpRequestMessage(HttpMethod.Delete, new Uri(_server.BoundAddresses[0], path));
        delete.Headers.TryAddWithoutValidation("Date", date);
        delete.Headers.TryAddWithoutValidation("Authorization", $"AWS {Admin}:{SigV2Verifier.Sign(AdminSecret, SigV2Verifier.StringToSign("DELETE", "", "", date, "", path))}");
        using var http = new HttpClient();
        using var answer = await http.SendAsync(delete);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, answer.StatusCode);
        Assert.Contains("Signature Version 4 only", await answer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.True(_credentials.TryGet("NXFKEPT", out _));
    }

    private AmazonS3Client Client(string key, string secret) =>
        new(new BasicAWSCredentials(key, secret), new AmazonS3Config { ServiceURL = _server.BoundAddresses[0].ToString(), ForcePathStyle = true, AuthenticationRegion = "us-east-1", MaxErrorRetry = 0 });
}
