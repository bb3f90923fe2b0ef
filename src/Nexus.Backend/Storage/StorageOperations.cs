// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Frozen;
using Nexus.Channel;

namespace Nexus.Backend.Storage;

/// <summary>
/// Every storage operation the channel serves. Each family of operations is one file with a <c>Register</c> method;
/// adding a family is one line here (and its op codes in <see cref="ChannelOp"/> and docs/channel.md).
/// </summary>
internal static class StorageOperations
{
    public static FrozenDictionary<ChannelOp, StorageHandler> All { get; } = Build(
        ObjectReads.Register,
        ObjectWrites.Register,
        Listing.Register,
        Buckets.Register,
        Tagging.Register,
        Multipart.Register,
        Presigning.Register,
        Services.ServiceRequests.Register);

    private static FrozenDictionary<ChannelOp, StorageHandler> Build(params Action<IDictionary<ChannelOp, StorageHandler>>[] families)
    {
        var table = new Dictionary<ChannelOp, StorageHandler>();
        foreach (var register in families)
        {
            register(table);
        }

        return table.ToFrozenDictionary();
    }
}
