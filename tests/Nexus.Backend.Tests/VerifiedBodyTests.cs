// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using Amazon.S3.Model;

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

    private static GetObjectResponse Response(string etag)
    {
        var response = new GetObjectResponse { ResponseStream = new MemoryStream(s_body), ETag = $"\"{etag.ToLowerInvariant()}\"" };
        response.Headers.ContentLength = s_body.Length;
        return response;
    }
}
