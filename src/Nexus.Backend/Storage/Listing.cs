// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3.Model;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>ListObjectsV2 (with each entry's Owner when FetchOwner asks, as v1 always does); a listing includes every acknowledged write (spooled writes under the prefix are uploaded first).</summary>
internal static class Listing
{
    public static void Register(IDictionary<ChannelOp, StorageHandler> table) => table.Add(ChannelOp.ListObjectsV2, ListObjectsV2Async);

    private static async Task ListObjectsV2Async(StorageCall call, CancellationToken ct)
    {
        var backend = call.Backend;
        var p = call.Parameters;
        var s3 = call.Backend.S3;
        var bucket = ChannelJson.RequiredString(p, "Bucket");
        var prefix = ChannelJson.OptionalString(p, "Prefix") ?? string.Empty;
        StorageAuthorization.Authorize(call.Manifest, bucket, prefix, StorageAccess.Read, keyIsPrefix: true);
        if (backend.WriteBack is { } writeBack)
        {
            // Listings include every acknowledged write.
            await writeBack.FlushPrefixAsync(bucket, prefix, ct).ConfigureAwait(false);
        }

        var list = new ListObjectsV2Request
        {
            BucketName = bucket,
            Prefix = prefix,
            Delimiter = ChannelJson.OptionalString(p, "Delimiter"),
            ContinuationToken = ChannelJson.OptionalString(p, "ContinuationToken"),
            StartAfter = ChannelJson.OptionalString(p, "StartAfter"),
            FetchOwner = ChannelJson.OptionalBool(p, "FetchOwner"),
        };
        if (ChannelJson.OptionalInt(p, "MaxKeys") is { } maxKeys)
        {
            list.MaxKeys = Math.Clamp(maxKeys, 0, 1000);
        }

        var response = await s3.ListObjectsV2Async(list, ct).ConfigureAwait(false);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                w.WriteString("Name", bucket);
                w.WriteString("Prefix", prefix);
                ChannelJson.WriteIfPresent(w, "Delimiter", list.Delimiter);
                w.WriteNumber("MaxKeys", response.MaxKeys ?? 1000);
                w.WriteNumber("KeyCount", response.KeyCount ?? 0);
                w.WriteBoolean("IsTruncated", response.IsTruncated ?? false);
                ChannelJson.WriteIfPresent(w, "ContinuationToken", list.ContinuationToken);
                ChannelJson.WriteIfPresent(w, "NextContinuationToken", response.NextContinuationToken);
                ChannelJson.WriteIfPresent(w, "StartAfter", list.StartAfter);
                if (response.S3Objects is { Count: > 0 } objects)
                {
                    ChannelJson.WriteObjectArray(w, "Contents", objects, static (w, o) =>
                    {
                        w.WriteString("Key", o.Key);
                        ChannelJson.WriteTimestamp(w, "LastModified", o.LastModified);
                        ChannelJson.WriteIfPresent(w, "ETag", o.ETag);
                        w.WriteNumber("Size", o.Size ?? 0);
                        w.WriteString("StorageClass", o.StorageClass?.Value ?? "STANDARD");
                        ObjectOptions.WriteOwner(w, o.Owner);
                    });
                }

                if (response.CommonPrefixes is { Count: > 0 } prefixes)
                {
                    ChannelJson.WriteObjectArray(w, "CommonPrefixes", prefixes, static (w, cp) => w.WriteString("Prefix", cp));
                }

                ObjectOptions.WriteRequestId(w, response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }
}
