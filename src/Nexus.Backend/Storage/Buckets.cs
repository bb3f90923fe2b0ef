// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3.Model;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>
/// HeadBucket, ListBuckets and CreateBucket. A function sees a bucket when one of its grants names it (the same rule the
/// store applies to the function's key in baseline mode): HeadBucket of another bucket is AccessDenied, and ListBuckets
/// lists only the granted buckets that exist, never the node's others. Buckets belong to the node, so CreateBucket is
/// always AccessDenied, as it is for the function's key in baseline mode.
/// </summary>
internal static class Buckets
{
    public static void Register(IDictionary<ChannelOp, StorageHandler> table)
    {
        table.Add(ChannelOp.HeadBucket, HeadBucketAsync);
        table.Add(ChannelOp.ListBuckets, ListBucketsAsync);
        table.Add(ChannelOp.CreateBucket, RefuseCreateBucket);
    }

    private static Task RefuseCreateBucket(StorageCall call, CancellationToken ct)
    {
        var bucket = ChannelJson.RequiredString(call.Parameters, "Bucket");
        StorageAuthorization.CheckBucket(bucket);
        // Buckets belong to the node (functions get grants on them): the store words it as a write of the bucket.
        throw StorageAuthorization.Denied(bucket, null, StorageAccess.Write);
    }

    private static async Task HeadBucketAsync(StorageCall call, CancellationToken ct)
    {
        var bucket = ChannelJson.RequiredString(call.Parameters, "Bucket");
        StorageAuthorization.CheckBucket(bucket);
        if (!call.Manifest.AllowsBucket(bucket))
        {
            throw StorageAuthorization.Denied(bucket, null, StorageAccess.Read);
        }

        var response = await call.Backend.S3.HeadBucketAsync(new HeadBucketRequest { BucketName = bucket }, ct).ConfigureAwait(false);
        await call.ReplyRequestIdAsync(response, ct).ConfigureAwait(false);
    }

    private static async Task ListBucketsAsync(StorageCall call, CancellationToken ct)
    {
        var response = await call.Backend.S3.ListBucketsAsync(new ListBucketsRequest(), ct).ConfigureAwait(false);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                ChannelJson.WriteObjectArray(w, "Buckets", (response.Buckets ?? []).Where(b => call.Manifest.AllowsBucket(b.BucketName)), static (w, bucket) =>
                {
                    w.WriteString("Name", bucket.BucketName);
                    ChannelJson.WriteTimestamp(w, "CreationDate", bucket.CreationDate);
                });
                ObjectOptions.WriteOwner(w, response.Owner);
                ObjectOptions.WriteRequestId(w, response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }
}
