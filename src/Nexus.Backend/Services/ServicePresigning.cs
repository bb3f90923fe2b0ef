// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;
using Nexus.Backend.Storage;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Services;

/// <summary>
/// Presigned URLs of services other than S3 (botocore's <c>generate_presigned_url</c> on any client, and the URLs its
/// handlers put into EC2's CopySnapshot or RDS's cross-region copies) and RDS IAM authentication tokens
/// (<c>generate_db_auth_token</c>): the sandbox holds no credentials, so the backend signs them, within the function's
/// grants, with the key it signs that service's calls with. What a URL's holder may do with it is what its request
/// names, so the grant check is the generic path's, on the action only (a holder can send any body).
/// </summary>
internal static class ServicePresigning
{
    /// <summary>GeneratePresignedUrl's Operation for an RDS IAM authentication token.</summary>
    public const string DbAuthTokenOperation = "DbAuthToken";

    /// <summary>The SigV4 service and grant service of an RDS IAM authentication token, and its action (IAM's names).</summary>
    public const string DbAuthService = "rds-db";
    public const string DbConnectAction = "connect";

    /// <summary>botocore's fixed lifetime of an authentication token (15 minutes).</summary>
    private const int DbAuthTokenSeconds = 900;

    /// <summary>
    /// The URL of <paramref name="request"/> (a request of a service other than S3, as botocore presigns it: its
    /// parameters already in its query) at the endpoint the node configures for its service, signed for
    /// <paramref name="region"/> (null: the endpoint's, else the node's). The node's own Lambda API takes no presigned
    /// requests.
    /// </summary>
    public static string Presign(FunctionManifest manifest, NexusBackendOptions options, ServiceRequest request, string? region, int expiresInSeconds, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(request);
        if (request.Service == ServiceTarget.LambdaService && !options.Services.ContainsKey(ServiceTarget.LambdaService))
        {
            throw new ChannelRequestException(501, "NotImplemented", "the node's own Lambda API takes no presigned requests; call lambda directly");
        }

        var endpoint = ServiceCalls.EndpointOf(options, request.Service, request.Operation);
        ServiceCalls.CheckGrants(manifest, request, ServiceTarget.ResolvePresigned(request));
        return ServiceSigner.Presign(
            request,
            endpoint.Url,
            endpoint.SigningNameOf(request.Service),
            endpoint.AccessKey ?? options.AccessKey,
            endpoint.SecretKey ?? options.SecretKey,
            region ?? endpoint.Region ?? options.Region,
            now,
            expiresInSeconds);
    }

    /// <summary>
    /// An RDS IAM authentication token, as botocore's <c>generate_db_auth_token</c> makes it (a presigned
    /// <c>GET https://HOST:PORT/?Action=connect&amp;DBUser=USER</c> for SigV4 service rds-db, valid 15 minutes, without
    /// its scheme), from {Hostname, Port, User, Region}: within a grant of action <c>connect</c> of service
    /// <c>rds-db</c> on resource <c>HOST:PORT/USER</c>, signed with the key of the node's <c>rds-db</c> service entry if
    /// it has one, else the node's.
    /// </summary>
    public static string DbAuthToken(FunctionManifest manifest, NexusBackendOptions options, JsonElement p, DateTime now)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(options);
        var hostname = ChannelJson.RequiredString(p, "Hostname");
        if (hostname.Length is < 1 or > 253 || !hostname.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-') || hostname[0] is '.' or '-')
        {
            throw ChannelRequestException.Invalid($"Hostname must be a DNS name or IPv4 address (1 to 253 of A-Z, a-z, 0-9, '.', '-'), got {StorageAuthorization.Quote(hostname)}");
        }

        var port = ChannelJson.OptionalInt(p, "Port") is { } n and >= 1 and <= 65535 ? n : throw ChannelRequestException.Invalid("Port must be a number from 1 to 65535");
        var user = ChannelJson.RequiredString(p, "User");
        if (user.Length is < 1 or > 128 || user.Any(char.IsControl))
        {
            throw ChannelRequestException.Invalid("User must be 1 to 128 characters without control characters");
        }

        var region = CheckedRegion(ChannelJson.RequiredString(p, "Region"));
        var resource = $"{hostname}:{port.ToString(CultureInfo.InvariantCulture)}/{user}";
        if (!ServiceTarget.Allowed(manifest, DbAuthService, DbConnectAction, resource))
        {
            throw ChannelRequestException.Denied($"function {manifest.Name} may not perform {DbAuthService}:{DbConnectAction} on resource {resource}");
        }

        options.Services.TryGetValue(DbAuthService, out var keys);
        var authority = $"{hostname}:{port.ToString(CultureInfo.InvariantCulture)}";
        var request = new ServiceRequest(DbAuthService, DbConnectAction, "GET", "/", "Action=connect&DBUser=" + Uri.EscapeDataString(user), []);
        var url = ServiceSigner.Presign(request, "https://" + authority, DbAuthService, keys?.AccessKey ?? options.AccessKey, keys?.SecretKey ?? options.SecretKey, region, now, DbAuthTokenSeconds);

        // botocore drops the scheme only; an authority with the default port (443) keeps it in the token.
        var afterAuthority = url.IndexOf('/', "https://".Length);
        return authority + url[afterAuthority..];
    }

    /// <summary>A region as botocore names one (us-east-1, cn-north-1, aws-global): 1-64 of a-z, 0-9 and inner '-'.</summary>
    public static string CheckedRegion(string region)
    {
        ArgumentNullException.ThrowIfNull(region);
        return region.Length is >= 1 and <= 64 && region.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-') && region[0] != '-' && region[^1] != '-'
            ? region
            : throw ChannelRequestException.Invalid($"Region {StorageAuthorization.Quote(region)} is not a region name (a-z, 0-9 and inner '-')");
    }
}
