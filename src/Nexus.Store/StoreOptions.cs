// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Store;

/// <summary>Where the store keeps its data and where it listens.</summary>
public sealed class StoreOptions
{
    /// <summary>Root of the store's files ($NEXUS_HOME/store for the node).</summary>
    public required string DataDirectory { get; init; }

    /// <summary>Kestrel URLs; port 0 picks a free port (see <see cref="S3StoreServer.BoundAddresses"/>).</summary>
    public IList<string> Urls { get; init; } = ["http://127.0.0.1:9780"];

    /// <summary>The region requests must be signed for.</summary>
    public string Region { get; init; } = "us-east-1";

    /// <summary>How far a request's X-Amz-Date may be from the store's clock (S3 uses 15 minutes).</summary>
    public TimeSpan MaxClockSkew { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>Largest single PUT or part (S3: 5 GiB).</summary>
    public long MaxObjectSize { get; init; } = 5L * 1024 * 1024 * 1024;

    /// <summary>Smallest non-last multipart part (S3: 5 MiB).</summary>
    public long MinPartSize { get; init; } = 5L * 1024 * 1024;

    /// <summary>fsync files and directories before acknowledging writes. Off only for throwaway stores.</summary>
    public bool Durable { get; init; } = true;

    /// <summary>
    /// Serve <c>/_nexus/credentials/&lt;id&gt;</c>, where a full-access key registers scoped function keys (a standalone
    /// <c>nexus store serve</c>; the embedded store's node adds them in process).
    /// </summary>
    public bool CredentialAdmin { get; init; }

    /// <summary>
    /// Time added before every S3 response's first byte, as a public object store's first-byte latency (zero: none).
    /// For evaluation against a store that answers like S3 (`nexus store serve --first-byte-latency`), never for a
    /// node's own store.
    /// </summary>
    public TimeSpan FirstByteLatency { get; init; }

    /// <summary>The clock used for signature expiry and skew checks, and for Last-Modified.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
