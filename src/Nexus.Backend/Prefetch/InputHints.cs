// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Backend.Storage;
using Nexus.Functions;

namespace Nexus.Backend.Prefetch;

/// <summary>
/// The objects an invocation event says the function will read: the records of an AWS S3 event notification
/// (<c>Records[].s3.bucket.name</c> and <c>Records[].s3.object.key</c>, the key URL-decoded as Lambda code does with
/// <c>unquote_plus</c>) and the inputs the manifest declares. Each is checked against the function's read grants
/// before anything is fetched: a hint it may not read is only counted.
/// </summary>
public static class InputHints
{
    /// <summary>Most objects prefetched for one invocation.</summary>
    public const int MaxHints = 16;

    /// <summary>Events larger than this are not searched for hints.</summary>
    public const int MaxEventBytes = 256 * 1024;

    public static (IReadOnlyList<(string Bucket, string Key)> Allowed, int Denied) Extract(FunctionManifest manifest, ReadOnlyMemory<byte> invocationEvent)
    {
        var allowed = new List<(string, string)>();
        var denied = 0;
        if (invocationEvent.Length is 0 or > MaxEventBytes)
        {
            return (allowed, denied);
        }

        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(invocationEvent, new JsonDocumentOptions { MaxDepth = 32 });
        }
        catch (JsonException)
        {
            // Not JSON: a payload is the function's business, not a hint.
            return (allowed, denied);
        }

        using (doc)
        {
            foreach (var (bucket, key) in S3Records(doc.RootElement).Concat(manifest.Inputs.Select(i => i.Resolve(doc.RootElement)).OfType<(string, string)>()))
            {
                if (allowed.Count == MaxHints)
                {
                    break;
                }

                if (allowed.Contains((bucket, key)))
                {
                    continue;
                }

                if (StorageAuthorization.Refusal(manifest, bucket, key, StorageAccess.Read) is null)
                {
                    allowed.Add((bucket, key));
                }
                else
                {
                    denied++;
                }
            }
        }

        return (allowed, denied);
    }

    /// <summary>URL-decodes an S3 event key: '+' is a space, %XX an escaped byte (UTF-8).</summary>
    public static string DecodeEventKey(string key) => Uri.UnescapeDataString(key.Replace('+', ' '));

    private static IEnumerable<(string Bucket, string Key)> S3Records(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("Records", out var records) || records.ValueKind != JsonValueKind.Array)
        {
            yield break;
        }

        foreach (var record in records.EnumerateArray().Take(MaxHints))
        {
            if (record.ValueKind == JsonValueKind.Object
                && record.TryGetProperty("s3", out var s3) && s3.ValueKind == JsonValueKind.Object
                && s3.TryGetProperty("bucket", out var bucket) && bucket.ValueKind == JsonValueKind.Object
                && bucket.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
                && s3.TryGetProperty("object", out var obj) && obj.ValueKind == JsonValueKind.Object
                && obj.TryGetProperty("key", out var key) && key.ValueKind == JsonValueKind.String)
            {
                yield return (name.GetString()!, DecodeEventKey(key.GetString()!));
            }
        }
    }
}
