// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Functions;

namespace Nexus.Node;

/// <summary>How a function's manifest grants map onto store requests made with the function's key.</summary>
public static class FunctionGrants
{
    /// <summary>
    /// Object requests need a grant covering the key with read or write access. Bucket-level requests
    /// (<paramref name="key"/> null: HeadBucket, GetBucketLocation) are allowed read-only when some grant names the
    /// bucket; creating or deleting buckets never is. Listings pass their prefix as the key.
    /// </summary>
    public static bool Allows(FunctionManifest manifest, string bucket, string? key, bool isWrite)
    {
        if (key is null)
        {
            return !isWrite && manifest.AllowsBucket(bucket);
        }

        return manifest.Allows(bucket, key, isWrite ? StorageAccess.Write : StorageAccess.Read);
    }
}
