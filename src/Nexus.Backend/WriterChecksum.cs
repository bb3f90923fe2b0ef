// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Serialization;
using Amazon.S3.Model;

namespace Nexus.Backend;

/// <summary>
/// The full-object checksum a function sent with its put (boto3's ChecksumCRC32, ChecksumCRC32C, ChecksumSHA1 or
/// ChecksumSHA256; boto3 computes it for a ChecksumAlgorithm): the bytes must match it (else BadDigest, as S3 answers),
/// the store keeps it, and GetObject and HeadObject in checksum mode answer it, also while the write waits in the spool.
/// </summary>
/// <param name="Algorithm">crc32, crc32c, sha1 or sha256 (the header's suffix).</param>
/// <param name="Value">Base64 of the checksum, as the header carries it.</param>
public sealed record WriterChecksum(string Algorithm, string Value)
{
    /// <summary>botocore 1.29's fields for them, with their algorithms.</summary>
    internal static readonly (string Field, string Algorithm)[] Fields =
        [("ChecksumCRC32", "crc32"), ("ChecksumCRC32C", "crc32c"), ("ChecksumSHA1", "sha1"), ("ChecksumSHA256", "sha256")];

    [JsonIgnore]
    public string HeaderName => "x-amz-checksum-" + Algorithm;

    /// <summary>The boto3 response field that carries it.</summary>
    [JsonIgnore]
    public string Field => Fields.First(f => f.Algorithm == Algorithm).Field;

    /// <summary>True when <paramref name="digest"/> (an <see cref="Interop.ObjectDigest"/> of this algorithm) is this checksum.</summary>
    internal bool Matches(byte[] digest) => string.Equals(Convert.ToBase64String(digest), Value, StringComparison.Ordinal);

    /// <summary>Sends it with an upload through the SDK, as a header the store checks the body against.</summary>
    internal void ApplyTo(PutObjectRequest put)
    {
        switch (Algorithm)
        {
            case "crc32": put.ChecksumCRC32 = Value; break;
            case "crc32c": put.ChecksumCRC32C = Value; break;
            case "sha1": put.ChecksumSHA1 = Value; break;
            default: put.ChecksumSHA256 = Value; break;
        }
    }

    /// <summary>Sends it with a part (a header the store checks the part against) or in a completion's part list.</summary>
    internal void ApplyTo(UploadPartRequest part)
    {
        switch (Algorithm)
        {
            case "crc32": part.ChecksumCRC32 = Value; break;
            case "crc32c": part.ChecksumCRC32C = Value; break;
            case "sha1": part.ChecksumSHA1 = Value; break;
            default: part.ChecksumSHA256 = Value; break;
        }
    }

    /// <inheritdoc cref="ApplyTo(UploadPartRequest)"/>
    internal void ApplyTo(PartETag part)
    {
        switch (Algorithm)
        {
            case "crc32": part.ChecksumCRC32 = Value; break;
            case "crc32c": part.ChecksumCRC32C = Value; break;
            case "sha1": part.ChecksumSHA1 = Value; break;
            default: part.ChecksumSHA256 = Value; break;
        }
    }

    /// <summary>Writes the checksums a storage answer carries as botocore 1.29's fields (the ones present).</summary>
    internal static void WriteFields(System.Text.Json.Utf8JsonWriter w, string? crc32, string? crc32c, string? sha1, string? sha256)
    {
        Channel.Services.ChannelJson.WriteIfPresent(w, "ChecksumCRC32", crc32);
        Channel.Services.ChannelJson.WriteIfPresent(w, "ChecksumCRC32C", crc32c);
        Channel.Services.ChannelJson.WriteIfPresent(w, "ChecksumSHA1", sha1);
        Channel.Services.ChannelJson.WriteIfPresent(w, "ChecksumSHA256", sha256);
    }
}

/// <summary>A put's body does not match the checksum its writer sent: nothing was acknowledged.</summary>
public sealed class ChecksumMismatchException(WriterChecksum checksum)
    : IOException($"the body does not match the {checksum.HeaderName} its writer sent")
{
    public WriterChecksum Checksum { get; } = checksum;
}
