// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Text;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>Bucket and key shape, and the function's grants: checked before any storage call.</summary>
public static class StorageAuthorization
{
    /// <summary>Checks bucket and key shape and the function's grant; throws AccessDenied/InvalidRequest otherwise.</summary>
    public static void Authorize(FunctionManifest manifest, string bucket, string key, StorageAccess access, bool keyIsPrefix = false)
    {
        if (Refusal(manifest, bucket, key, access, keyIsPrefix) is { } refusal)
        {
            throw refusal;
        }
    }

    /// <summary>
    /// What <see cref="Authorize"/> would throw, or null when the access is allowed: for callers that only count
    /// refusals (the prefetch's hints of every event), where a thrown exception would cost more than the check.
    /// </summary>
    public static ChannelRequestException? Refusal(FunctionManifest manifest, string bucket, string key, StorageAccess access, bool keyIsPrefix = false)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        if ((BucketRefusal(bucket) ?? KeyRefusal(key, allowEmpty: keyIsPrefix)) is { } refusal)
        {
            return refusal;
        }

        return manifest.Allows(bucket, key, access) ? null : Denied(bucket, key, access);
    }

    /// <summary>
    /// A grant refusal in the store's words for a function's key (src/Nexus.Store/S3Handler.cs), so that a function sees
    /// the same message in both modes; <paramref name="key"/> null for a bucket-level request. The function and the call
    /// are known to the node (the function's own log has the message), so nothing else needs saying to the sandbox.
    /// </summary>
    public static ChannelRequestException Denied(string bucket, string? key, StorageAccess access) =>
        ChannelRequestException.Denied(
            $"Access Denied: no grant allows {(access == StorageAccess.Read ? "reading" : "writing")} {(key is null ? $"bucket '{bucket}'" : $"'{bucket}/{key}'")}.");

    internal static void CheckBucket(string bucket)
    {
        if (BucketRefusal(bucket) is { } refusal)
        {
            throw refusal;
        }
    }

    // Checked on every storage call and every prefetch hint: span searches, no delegates, no split.
    private static readonly SearchValues<char> s_bucketChars = SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789-.");

    private static ChannelRequestException? BucketRefusal(string bucket) =>
        bucket.Length is < 3 or > 63 || bucket.AsSpan().ContainsAnyExcept(s_bucketChars)
            ? new ChannelRequestException(400, "InvalidBucketName", $"bucket name {Quote(bucket)} is not a valid S3 bucket name")
            : null;

    private static ChannelRequestException? KeyRefusal(string key, bool allowEmpty)
    {
        if (key.Length == 0 && !allowEmpty)
        {
            return new ChannelRequestException(400, "InvalidArgument", "object key is empty");
        }

        if (Encoding.UTF8.GetByteCount(key) is > 1024 and var bytes)
        {
            // The store's (and S3's) words, so both modes raise the same ClientError.
            return new ChannelRequestException(400, "KeyTooLongError", $"Your key is too long: {bytes} bytes of UTF-8, the limit is 1024.");
        }

        foreach (var c in key)
        {
            if (char.IsControl(c))
            {
                return new ChannelRequestException(400, "InvalidArgument", $"object key {Quote(key)} contains a control character");
            }
        }

        // "." and ".." segments are part of the key, as in S3: every request the backend sends keeps them literally (the
        // SDK's and ServiceSigner's URIs are not canonicalised) and SigV4 binds the path, so storage acts on exactly the key
        // checked here or refuses the signature (DotSegmentKeyTests).
        return null;
    }

    /// <summary>A path whose "." or ".." segment the generic path refuses (its requests are botocore's, sent as given).</summary>
    internal static ChannelRequestException? DotSegmentRefusal(string path)
    {
        foreach (var range in path.AsSpan().Split('/'))
        {
            var segment = path.AsSpan(range);
            if (segment is "." or "..")
            {
                return ChannelRequestException.Denied($"object key path {Quote(path)} has a '{segment}' path segment");
            }
        }

        return null;
    }

    internal static string Quote(string s) => s.Length > 80 ? $"\"{s[..80]}…\"" : $"\"{s}\"";
}
