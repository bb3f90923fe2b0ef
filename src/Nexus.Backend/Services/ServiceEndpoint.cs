// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.Services;

/// <summary>
/// Where the node sends the generic-path calls of one service (DynamoDB, SQS, ...: any endpoint that speaks the
/// service's API), and with which credentials it signs them.
/// </summary>
public sealed record ServiceEndpoint
{
    /// <summary>The endpoint's base URL, http:// or https://, without path (e.g. http://127.0.0.1:8000).</summary>
    public required string Url { get; init; }

    /// <summary>SigV4's service name; null: the service's name without '-' (secrets-manager → secretsmanager).</summary>
    public string? SigningName { get; init; }

    /// <summary>SigV4's region; null: the backend's region.</summary>
    public string? Region { get; init; }

    /// <summary>The key the node signs with; null: the node's storage key.</summary>
    public string? AccessKey { get; init; }

    public string? SecretKey { get; init; }

    /// <summary>
    /// SigV4's name for <paramref name="service"/> (botocore's name) at this endpoint: the one configured, else the
    /// service's own (<see cref="SigningNames"/>, else botocore's name without its '-').
    /// </summary>
    public string SigningNameOf(string service)
    {
        ArgumentNullException.ThrowIfNull(service);
        return SigningName ?? SigningNames.OfService.GetValueOrDefault(service) ?? service.Replace("-", "", StringComparison.Ordinal);
    }
}
