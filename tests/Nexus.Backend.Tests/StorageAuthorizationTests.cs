// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Storage;
using Nexus.Functions;

namespace Nexus.Backend.Tests;

/// <summary>
/// The shape checks every storage call and every prefetch hint passes before the grants are asked
/// (<see cref="StorageAuthorization.Refusal"/>). A key with "." or ".." segments is a key like any other, checked
/// literally (it reaches storage literally: <see cref="DotSegmentKeyTests"/>).
/// </summary>
public sealed class StorageAuthorizationTests
{
    private static readonly FunctionManifest s_manifest = new()
    {
        Name = "f",
        Handler = "handler.handler",
        Storage = [new StorageGrant("nexus-test", "fn/", StorageAccess.ReadWrite)],
    };

    [Theory]
    [InlineData("nexus-test", "fn/a", null)]
    [InlineData("nexus-test", "fn/a.b/..c/.d/e.", null)]
    [InlineData("nexus-test", "fn/../private/secret", null)]
    [InlineData("nexus-test", "fn/./mine", null)]
    [InlineData("nexus-test", "fn/x/..", null)]
    [InlineData("nexus-test", "../fn/a", "AccessDenied")]
    [InlineData("nexus-test", "./fn/a", "AccessDenied")]
    [InlineData("nexus-test", "fn//", null)]
    [InlineData("nexus-test", "fn/a\u0007b", "InvalidArgument")]
    [InlineData("nexus-test", "fn/a\u0085b", "InvalidArgument")]
    [InlineData("nexus-test", "", "InvalidArgument")]
    [InlineData("nexus-test", "private/secret", "AccessDenied")]
    [InlineData("other-bucket", "fn/a", "AccessDenied")]
    [InlineData("../etc", "fn/a", "InvalidBucketName")]
    [InlineData("Nexus-test", "fn/a", "InvalidBucketName")]
    [InlineData("nexus_test", "fn/a", "InvalidBucketName")]
    [InlineData("ab", "fn/a", "InvalidBucketName")]
    public void Bucket_and_key_are_shaped_before_the_grants_are_asked(string bucket, string key, string? code)
    {
        Assert.Equal(code, StorageAuthorization.Refusal(s_manifest, bucket, key, StorageAccess.Read)?.Code);
    }

    [Fact]
    public void A_key_over_1024_utf8_bytes_is_refused()
    {
        Assert.Null(StorageAuthorization.Refusal(s_manifest, "nexus-test", "fn/" + new string('a', 1021), StorageAccess.Read));
        Assert.Equal("KeyTooLongError", StorageAuthorization.Refusal(s_manifest, "nexus-test", "fn/" + new string('\u00e9', 511), StorageAccess.Read)?.Code);
    }
}
