// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Nexus.Store;

/// <summary>A scoped credential as a node registers it with a standalone store (<c>PUT /_nexus/credentials/&lt;id&gt;</c>).</summary>
public sealed record ScopedCredentialRequest(string SecretAccessKey, IReadOnlyList<StoreGrant> Grants);

/// <summary>
/// The credential admin endpoint of a standalone store: a node registers each function's key pair with its grants
/// (PUT) and removes it (DELETE), signed with a full-access key. The path cannot clash with S3: "_nexus" is not a
/// valid bucket name.
/// </summary>
internal sealed partial class S3Handler
{
    public const string CredentialsPath = "/_nexus/credentials/";

    private const int MaxCredentialBody = 64 * 1024;
    private const int MaxGrants = 256;

    private async Task CredentialsAsync(HttpContext context, string resource, SignatureCheck auth)
    {
        if (auth.Version != 4)
        {
            throw S3Errors.AccessDenied("credential management takes Signature Version 4 only.");
        }

        if (auth.Credential.Authorize is not null)
        {
            throw S3Errors.AccessDenied($"only a full-access credential may manage credentials; '{auth.Credential.AccessKeyId}' is scoped.");
        }

        var accessKeyId = resource[CredentialsPath.Length..];
        if (!resource.StartsWith(CredentialsPath, StringComparison.Ordinal) || accessKeyId.Length is 0 or > 128 || !accessKeyId.All(char.IsAsciiLetterOrDigit))
        {
            throw S3Errors.InvalidRequest($"expected {CredentialsPath}<access key id> (1-128 ASCII letters and digits), got '{resource}'.");
        }

        if (_credentials.TryGet(accessKeyId, out var existing) && existing.Authorize is null)
        {
            throw S3Errors.AccessDenied($"'{accessKeyId}' is a full-access credential of the store; it cannot be replaced or removed here.");
        }

        if (HttpMethods.IsDelete(context.Request.Method))
        {
            _credentials.Remove(accessKeyId);
            context.Response.StatusCode = 204;
            return;
        }

        if (!HttpMethods.IsPut(context.Request.Method))
        {
            throw S3Errors.NotImplemented($"{context.Request.Method} {CredentialsPath}");
        }

        var body = await ReadCredentialBodyAsync(context, auth.PayloadHash);
        ScopedCredentialRequest request;
        try
        {
            request = JsonSerializer.Deserialize(body, ScopedCredentialJson.Default.ScopedCredentialRequest)
                ?? throw new JsonException("null");
        }
        catch (JsonException e)
        {
            throw S3Errors.InvalidArgument($"the credential body is not valid JSON of {{secretAccessKey, grants: [{{bucket, prefix, read, write}}]}}: {e.Message}");
        }

        if (string.IsNullOrEmpty(request.SecretAccessKey) || request.Grants is null || request.Grants.Count > MaxGrants)
        {
            throw S3Errors.InvalidArgument($"the credential needs a non-empty secretAccessKey and at most {MaxGrants} grants.");
        }

        foreach (var grant in request.Grants)
        {
            S3Names.CheckBucketName(grant.Bucket ?? "");
            if (grant.Prefix is null)
            {
                throw S3Errors.InvalidArgument($"the grant on bucket '{grant.Bucket}' has no prefix (use \"\" for the whole bucket).");
            }
        }

        var grants = request.Grants.ToArray();
        _credentials.Add(new StoreCredential(accessKeyId, request.SecretAccessKey, scope => StoreGrant.Allows(grants, scope)));
        context.Response.StatusCode = 204;
    }

    /// <summary>Reads the (small) body and checks it against the hex SHA-256 it was signed with.</summary>
    private static async Task<byte[]> ReadCredentialBodyAsync(HttpContext context, string payloadHash)
    {
        if (context.Request.ContentLength is not { } length || length > MaxCredentialBody)
        {
            throw S3Errors.InvalidArgument($"a credential body needs a Content-Length of at most {MaxCredentialBody} bytes.");
        }

        var body = new byte[length];
        await context.Request.Body.ReadExactlyAsync(body, context.RequestAborted);
        if (payloadHash.Length != 64 || !string.Equals(Convert.ToHexStringLower(SHA256.HashData(body)), payloadHash, StringComparison.OrdinalIgnoreCase))
        {
            throw S3Errors.InvalidArgument("a credential body must be signed with its hex SHA-256 in x-amz-content-sha256 (and match it).");
        }

        return body;
    }
}

[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, MaxDepth = 8)]
[JsonSerializable(typeof(ScopedCredentialRequest))]
internal sealed partial class ScopedCredentialJson : JsonSerializerContext;
