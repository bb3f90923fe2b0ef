// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Store;

/// <summary>One storage permission of a scoped credential: a bucket, a key prefix ("" = the whole bucket), read and/or write.</summary>
public sealed record StoreGrant(string Bucket, string Prefix, bool Read, bool Write)
{
    /// <summary>
    /// Whether <paramref name="grants"/> allow <paramref name="scope"/>. Object requests need a grant covering the key with
    /// the access asked for. Bucket-level requests (no key: HeadBucket, GetBucketLocation) are allowed read-only when
    /// some grant names the bucket; creating or deleting buckets, and the bucket list, never are. Listings pass their
    /// prefix as the key.
    /// </summary>
    public static bool Allows(IEnumerable<StoreGrant> grants, StoreRequestScope scope)
    {
        ArgumentNullException.ThrowIfNull(grants);
        ArgumentNullException.ThrowIfNull(scope);
        if (scope.Bucket is not { } bucket)
        {
            return false;
        }

        if (scope.Key is not { } key)
        {
            return !scope.IsWrite && grants.Any(g => g.Bucket == bucket);
        }

        return grants.Any(g => g.Bucket == bucket && key.StartsWith(g.Prefix, StringComparison.Ordinal) && (scope.IsWrite ? g.Write : g.Read));
    }
}
