// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Nexus.Store;

/// <summary>
/// Registers and removes scoped credentials on a standalone Nexus store (<see cref="StoreOptions.CredentialAdmin"/>),
/// signing each request with SigV4 (header form, hex payload hash) under a full-access key of that store.
/// </summary>
public sealed class StoreAdminClient(Uri endpoint, string accessKeyId, string secretAccessKey, string region = "us-east-1") : IDisposable
{
    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Adds or replaces <paramref name="keyId"/> with exactly <paramref name="grants"/>.</summary>
    public Task PutCredentialAsync(string keyId, string secret, IReadOnlyList<StoreGrant> grants, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, keyId, JsonSerializer.SerializeToUtf8Bytes(new ScopedCredentialRequest(secret, grants), ScopedCredentialJson.Default.ScopedCredentialRequest), cancellationToken);

    public Task DeleteCredentialAsync(string keyId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Delete, keyId, [], cancellationToken);

    public void Dispose() => _http.Dispose();

    private async Task SendAsync(HttpMethod method, string keyId, byte[] body, CancellationToken cancellationToken)
    {
        var path = S3Handler.CredentialsPath + SigV4.UriEncode(keyId, keepSlash: false);
        var uri = new Uri(endpoint, path);
        var now = DateTimeOffset.UtcNow;
        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var payloadHash = Convert.ToHexStringLower(SHA256.HashData(body));
        var host = uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port.ToString(CultureInfo.InvariantCulture)}";
        const string signedHeaders = "host;x-amz-content-sha256;x-amz-date";
        var canonical = $"{method.Method}\n{path}\n\nhost:{host}\nx-amz-content-sha256:{payloadHash}\nx-amz-date:{amzDate}\n\n{signedHeaders}\n{payloadHash}";
        var scope = $"{date}/{region}/s3/aws4_request";
        var signature = SigV4.Sign(SigV4.DeriveSigningKey(secretAccessKey, date, region, "s3"), SigV4.StringToSign(amzDate, scope, canonical));

        using var request = new HttpRequestMessage(method, uri);
        request.Headers.Host = host;
        request.Headers.Add("x-amz-date", amzDate);
        request.Headers.Add("x-amz-content-sha256", payloadHash);
        request.Headers.TryAddWithoutValidation("Authorization", $"{SigV4.Algorithm} Credential={accessKeyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}");
        if (body.Length > 0)
        {
            request.Content = new ByteArrayContent(body);
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        using var response = await _http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new IOException($"store {endpoint}: {method.Method} {path} answered {(int)response.StatusCode}: {text}");
        }
    }
}
