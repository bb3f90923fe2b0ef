// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Remote;

/// <summary>
/// How the link to a remote store is shaped (a delay line each way, so a round trip costs two one-way delays, and
/// tbf): the delay each direction adds and the rate each direction is limited to.
/// </summary>
public sealed record StorageProfile(string Name, TimeSpan OneWayDelay, long RateMbit, string Why)
{
    /// <summary>Hosts in one data centre (the paper's 10-node cluster): ~0.2 ms one way, 10 Gbit/s.</summary>
    public static StorageProfile Datacenter { get; } = new("datacenter", TimeSpan.FromMicroseconds(200), 10_000, "hosts in one data centre, as the paper's 10-node cluster: 0.4 ms round trip, 10 Gbit/s");

    /// <summary>A store in another availability zone of the region: ~1 ms one way.</summary>
    public static StorageProfile CrossAz { get; } = new("cross-az", TimeSpan.FromMilliseconds(1), 10_000, "a store in another availability zone: 2 ms round trip (cloud providers quote 1-2 ms between zones), 10 Gbit/s");

    public static IReadOnlyList<StorageProfile> All { get; } = [Datacenter, CrossAz];

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
