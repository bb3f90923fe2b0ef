// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Functions;
using Nexus.Store;

namespace Nexus.Node;

/// <summary>How a function's manifest grants map onto store requests made with the function's key.</summary>
public static class FunctionGrants
{
    /// <summary>The manifest's grants as the store checks them (also sent to a remote <c>nexus store serve</c>).</summary>
    public static IReadOnlyList<StoreGrant> Of(FunctionManifest manifest) =>
        [.. manifest.Storage.Select(g => new StoreGrant(g.Bucket, g.Prefix, (g.Access & StorageAccess.Read) != 0, (g.Access & StorageAccess.Write) != 0))];

    /// <summary>See <see cref="StoreGrant.Allows"/>: the rules are the store's, whichever process checks them.</summary>
    public static bool Allows(FunctionManifest manifest, string bucket, string? key, bool isWrite) =>
        StoreGrant.Allows(Of(manifest), new StoreRequestScope(bucket, key, isWrite));
}
