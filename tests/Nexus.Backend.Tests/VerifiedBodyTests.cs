// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Interop;

namespace Nexus.Backend.Tests;

public sealed class VerifiedBodyTests
{
    private static readonly byte[] s_body = [.. Enumerable.Range(0, 100_000).Select(i => (byte)(i * 31))];

    [Fact]
    public async Task BodyMatchingItsEtagReadsWhole()
    {
        await using var body = VerifiedBody.Of(Response(Convert.ToHexString(MD5.HashData(s_body))), ranged: false, verify: true);
        using var copy = new MemoryStream();
        await body.CopyToAsync(copy);
        Assert.Equal(s_body, copy.ToArray());
    }

    [Fact]
    public async Task BodyNotMatchingItsEtagFailsTheRead()
    {
        await using var body = VerifiedBody.Of(Response(new string('0', 32)), ranged: false, verify: true);
        var e = await Assert.ThrowsAsync<IOException>(() => body.CopyToAsync(Stream.Null));
        Assert.Contains("do not match its ETag", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnverifiedOrRangedBodiesAreNotChecked()
    {
        await using (var unverified = VerifiedBody.Of(Response(new string('0', 32)), ranged: false, verify: false))
        {
            await unverified.CopyToAsync(Stream.Null);
        }

        await using var ranged = VerifiedBody.Of(Response(new string('0', 32)), ranged: true, verify: true);
        await ranged.CopyToAsync(Stream.Null);
    }

    [Fact]
    public async Task A_full_object_checksum_is_checked_instead_of_the_etag()
    {
        // The response's CRC-64/NVME decides: a right one passes even with an ETag that is not the body's MD5 (so the
        // MD5 is not what was checked), a wrong one fails even with the right ETag.
        var md5 = Convert.ToHexString(MD5.HashData(s_body));
        var right = Crc64(s_body);
        var wrong = Crc64([.. s_body, 0]);
        await using (var body = VerifiedBody.Of(Response(new string('0', 32), r => r.ChecksumCRC64NVME = right), ranged: false, verify: true))
        {
            await body.CopyToAsync(Stream.Null);
        }

        await using var bad = VerifiedBody.Of(Response(md5, r => r.ChecksumCRC64NVME = wrong), ranged: false, verify: true);
        var e = await Assert.ThrowsAsync<IOException>(() => bad.CopyToAsync(Stream.Null));
        Assert.Contains("do not match its checksum (crc64nvme)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_composite_checksum_is_not_taken_for_the_bodys_own()
    {
        // A multipart upload's checksum of its parts' checksums: the ETag (here the body's MD5) is checked instead.
        await using var body = VerifiedBody.Of(Response(Convert.ToHexString(MD5.HashData(s_body)), r => { r.ChecksumCRC32 = "AAAAAA==-2"; r.ChecksumType = ChecksumType.COMPOSITE; }), ranged: false, verify: true);
        await body.CopyToAsync(Stream.Null);
    }

    private static string Crc64(byte[] data)
    {
        var value = new byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(value, Crc64Nvme.Append(0, data));
        return Convert.ToBase64String(value);
    }

    private static GetObjectResponse Response(string etag, Action<GetObjectResponse> set)
    {
        var response = Response(etag);
        set(response);
        return response;
    }

    private static GetObjectResponse Response(string etag)
    {
        var response = new GetObjectResponse { ResponseStream = new MemoryStream(s_body), ETag = $"\"{etag.ToLowerInvariant()}\"" };
        response.Headers.ContentLength = s_body.Length;
        return response;
    }
}
