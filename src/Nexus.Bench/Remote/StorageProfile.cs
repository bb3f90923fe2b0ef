// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Remote;

/// <summary>
/// How the path to a remote store is shaped: the delay each direction of the link adds (a delay line each way, so a
/// round trip costs two one-way delays), the rate each direction is limited to (tbf), and the time the store itself
/// waits before each response's first byte (a public object store's first-byte latency; zero for a store that answers
/// as fast as it can).
/// </summary>
public sealed record StorageProfile(string Name, TimeSpan OneWayDelay, long RateMbit, TimeSpan FirstByteLatency, string Why)
{
    /// <summary>Hosts in one data centre (the paper's 10-node cluster): ~0.2 ms one way, 10 Gbit/s.</summary>
    public static StorageProfile Datacenter { get; } = new("datacenter", TimeSpan.FromMicroseconds(200), 10_000, TimeSpan.Zero, "hosts in one data centre, as the paper's 10-node cluster: 0.4 ms round trip, 10 Gbit/s");

    /// <summary>A store in another availability zone of the region: ~1 ms one way.</summary>
    public static StorageProfile CrossAz { get; } = new("cross-az", TimeSpan.FromMilliseconds(1), 10_000, TimeSpan.Zero, "a store in another availability zone: 2 ms round trip (cloud providers quote 1-2 ms between zones), 10 Gbit/s");

    /// <summary>
    /// A public object store in the function's region: 1 ms round trip and 20 ms before each response's first byte
    /// (AWS's S3 performance whitepaper: median latencies of small requests "often in the tens of milliseconds").
    /// </summary>
    public static StorageProfile S3 { get; } = new("s3", TimeSpan.FromMicroseconds(500), 10_000, TimeSpan.FromMilliseconds(20), "an object store like S3 in the same region: 1 ms round trip, 20 ms first-byte latency per request (S3's median for small requests is in the tens of milliseconds), 10 Gbit/s");

    public static IReadOnlyList<StorageProfile> All { get; } = [Datacenter, CrossAz, S3];

    public static StorageProfile Parse(string name) =>
        All.FirstOrDefault(p => p.Name == name) ?? throw new ArgumentException($"unknown storage profile '{name}' (known: {string.Join(", ", All.Select(p => p.Name))})");
}

/// <summary>Which S3 server runs as the remote store.</summary>
public enum StoreServerKind
{
    /// <summary><c>nexus store serve</c>: the project's store in its own process; takes the functions' scoped keys.</summary>
    Nexus,

    /// <summary>s3rver (npm), an S3 implementation nobody here wrote; one fixed key pair (S3RVER/S3RVER), no scoped keys.</summary>
    S3rver,
}
