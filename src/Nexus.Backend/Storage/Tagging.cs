// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3.Model;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>
/// GetObjectTagging (a read of the key), PutObjectTagging and DeleteObjectTagging (writes of the key). The tag set is
/// checked with S3's rules (<see cref="ObjectTagRules"/>) before anything leaves the host. Tags belong to the stored
/// object: an acknowledged write of the key still in the spool lands first.
/// </summary>
internal static class Tagging
{
    public static void Register(IDictionary<ChannelOp, StorageHandler> table)
    {
        table.Add(ChannelOp.GetObjectTagging, GetObjectTaggingAsync);
        table.Add(ChannelOp.PutObjectTagging, (call, ct) => ChangeTagsAsync(call, put: true, ct));
        table.Add(ChannelOp.DeleteObjectTagging, (call, ct) => ChangeTagsAsync(call, put: false, ct));
    }

    private static (string Bucket, string Key) Authorize(StorageCall call, StorageAccess access)
    {
        var bucket = ChannelJson.RequiredString(call.Parameters, "Bucket");
        var key = ChannelJson.RequiredString(call.Parameters, "Key");
        StorageAuthorization.Authorize(call.Manifest, bucket, key, access);
        return (bucket, key);
    }

    private static async Task GetObjectTaggingAsync(StorageCall call, CancellationToken ct)
    {
        var (bucket, key) = Authorize(call, StorageAccess.Read);
        await call.FlushPendingWriteAsync(bucket, key, ct).ConfigureAwait(false);
        var response = await call.Backend.S3.GetObjectTaggingAsync(new GetObjectTaggingRequest { BucketName = bucket, Key = key }, ct).ConfigureAwait(false);
        await call.ReplyJsonAsync(
            200,
            w =>
            {
                w.WriteStartObject();
                ChannelJson.WriteObjectArray(w, "TagSet", response.Tagging ?? [], static (w, tag) =>
                {
                    w.WriteString("Key", tag.Key);
                    w.WriteString("Value", tag.Value);
                });
                ObjectOptions.WriteRequestId(w, response);
                w.WriteEndObject();
            },
            ct).ConfigureAwait(false);
    }

    /// <summary>PutObjectTagging (<paramref name="put"/>) or DeleteObjectTagging.</summary>
    private static async Task ChangeTagsAsync(StorageCall call, bool put, CancellationToken ct)
    {
        var (bucket, key) = Authorize(call, StorageAccess.Write);
        var tags = put ? TagSet(call.Parameters) : null;
        await call.FlushPendingWriteAsync(bucket, key, ct).ConfigureAwait(false);
        var s3 = call.Backend.S3;
        AmazonWebServiceResponse written = tags is not null
            ? await s3.PutObjectTaggingAsync(new PutObjectTaggingRequest { BucketName = bucket, Key = key, Tagging = new Amazon.S3.Model.Tagging { TagSet = tags } }, ct).ConfigureAwait(false)
            : await s3.DeleteObjectTaggingAsync(new DeleteObjectTaggingRequest { BucketName = bucket, Key = key }, ct).ConfigureAwait(false);
        call.Backend.ObjectChanged(bucket, key);
        await call.ReplyRequestIdAsync(written, ct).ConfigureAwait(false);
    }

    /// <summary>PutObjectTagging's Tagging parameter: {"TagSet": [{"Key": .., "Value": ..}, ...]}, validated.</summary>
    private static List<Tag> TagSet(JsonElement p)
    {
        if (!p.TryGetProperty("Tagging", out var tagging) || tagging.ValueKind != JsonValueKind.Object
            || !tagging.TryGetProperty("TagSet", out var set) || set.ValueKind != JsonValueKind.Array)
        {
            throw ChannelRequestException.Invalid("parameter Tagging must be an object with a TagSet array");
        }

        try
        {
            if (set.GetArrayLength() > ObjectTagRules.MaxTags)
            {
                throw ObjectTagRules.TooMany(set.GetArrayLength());
            }

            var tags = new List<KeyValuePair<string, string>>();
            foreach (var tag in set.EnumerateArray())
            {
                if (tag.ValueKind != JsonValueKind.Object)
                {
                    throw ChannelRequestException.Invalid("each TagSet entry must be an object with Key and Value");
                }

                tags.Add(new(ChannelJson.RequiredString(tag, "Key"), ChannelJson.RequiredString(tag, "Value")));
            }

            return ObjectTagRules.Validate(tags).Select(t => new Tag { Key = t.Key, Value = t.Value }).ToList();
        }
        catch (InvalidTagsException e)
        {
            throw new ChannelRequestException(400, e.Code, e.Message);
        }
    }
}
