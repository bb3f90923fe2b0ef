// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

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
        CheckBucket(bucket);
        CheckKey(key, allowEmpty: keyIsPrefix);
        if (!manifest.Allows(bucket, key, access))
        {
            var verb = access == StorageAccess.Read ? "read" : "write";
            throw ChannelRequestException.Denied($"function {manifest.Name} may not {verb} {bucket}/{key}");
        }
    }

    internal static void CheckBucket(string bucket)
    {
        if (bucket.Length is < 3 or > 63 || !bucket.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-' or '.'))
        {
            throw new ChannelRequestException(400, "InvalidBucketName", $"bucket name {Quote(bucket)} is not a valid S3 bucket name");
        }
    }

    private static void CheckKey(string key, bool allowEmpty)
    {
        if (key.Length == 0 && !allowEmpty)
        {
            throw new ChannelRequestException(400, "InvalidArgument", "object key is empty");
        }

        if (Encoding.UTF8.GetByteCount(key) > 1024)
        {
            throw new ChannelRequestException(400, "KeyTooLongError", "object key is longer than 1024 bytes");
        }

        if (key.Any(char.IsControl))
        {
            throw new ChannelRequestException(400, "InvalidArgument", $"object key {Quote(key)} contains a control character");
        }

        // HTTP stacks normalise "." and ".." path segments, which would move a request outside the prefix it was
        // authorised for; keys with such segments are refused outright.
        foreach (var segment in key.Split('/'))
        {
            if (segment is "." or "..")
            {
                throw ChannelRequestException.Denied($"object key {Quote(key)} has a '{segment}' path segment");
            }
        }
    }

    internal static string Quote(string s) => s.Length > 80 ? $"\"{s[..80]}…\"" : $"\"{s}\"";
}
