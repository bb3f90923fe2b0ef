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

    private const int MaxDepth = 32;

    public static (IReadOnlyList<(string Bucket, string Key)> Allowed, int Denied) Extract(FunctionManifest manifest, ReadOnlyMemory<byte> invocationEvent)
    {
        var allowed = new List<(string, string)>();
        var denied = 0;
        if (invocationEvent.Length is 0 or > MaxEventBytes)
        {
            return (allowed, denied);
        }

        // One forward pass over the event for its S3 records (no document is built: this runs on the invoke path of
        // every warm invocation); a document only for the inputs a manifest declares, which address any path.
        List<(string Bucket, string Key)> records;
        List<(string Bucket, string Key)>? declared = null;
        try
        {
            records = S3Records(invocationEvent.Span);
            if (manifest.Inputs.Count > 0)
            {
                using var doc = JsonDocument.Parse(invocationEvent, new JsonDocumentOptions { MaxDepth = MaxDepth });
                declared = [.. manifest.Inputs.Select(i => i.Resolve(doc.RootElement)).OfType<(string, string)>()];
            }
        }
        catch (JsonException)
        {
            // Not JSON: a payload is the function's business, not a hint.
            return (allowed, denied);
        }

        Admit(manifest, records, allowed, ref denied);
        if (declared is not null)
        {
            Admit(manifest, declared, allowed, ref denied);
        }

        return (allowed, denied);
    }

    /// <summary>URL-decodes an S3 event key: '+' is a space, %XX an escaped byte (UTF-8).</summary>
    public static string DecodeEventKey(string key) =>
        key.AsSpan().ContainsAny('+', '%') ? Uri.UnescapeDataString(key.Replace('+', ' ')) : key;

    // Each found object the function may read, in order and once, up to MaxHints; the others are counted.
    private static void Admit(FunctionManifest manifest, List<(string Bucket, string Key)> found, List<(string, string)> allowed, ref int denied)
    {
        foreach (var (bucket, key) in found)
        {
            if (allowed.Count == MaxHints)
            {
                return;
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

    /// <summary>
    /// <c>Records[].s3.bucket.name</c> and <c>.s3.object.key</c> of the first <see cref="MaxHints"/> records, read to
    /// the end of the event so that one that is not JSON throws (as a parse would); a property of the wrong kind just
    /// makes its record no hint.
    /// </summary>
    private static List<(string Bucket, string Key)> S3Records(ReadOnlySpan<byte> json)
    {
        var found = new List<(string, string)>();
        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = MaxDepth });
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
        }
        else
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isRecords = reader.ValueTextEquals("Records"u8);
                reader.Read();
                if (isRecords && reader.TokenType == JsonTokenType.StartArray)
                {
                    ReadRecords(ref reader, found);
                }
                else
                {
                    reader.Skip();
                }
            }
        }

        // Anything after the event's one value is not JSON.
        while (reader.Read())
        {
        }

        return found;
    }

    private static void ReadRecords(ref Utf8JsonReader reader, List<(string, string)> found)
    {
        var index = 0;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            if (index++ < MaxHints && reader.TokenType == JsonTokenType.StartObject)
            {
                string? bucket = null, key = null;
                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    var isS3 = reader.ValueTextEquals("s3"u8);
                    reader.Read();
                    if (isS3 && reader.TokenType == JsonTokenType.StartObject)
                    {
                        (bucket, key) = ReadS3(ref reader);
                    }
                    else
                    {
                        reader.Skip();
                    }
                }

                if (bucket is not null && key is not null)
                {
                    found.Add((bucket, DecodeEventKey(key)));
                }
            }
            else
            {
                reader.Skip();
            }
        }
    }

    // On the s3 object's start; leaves the reader on its end.
    private static (string? Bucket, string? Key) ReadS3(ref Utf8JsonReader reader)
    {
        string? bucket = null, key = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var isBucket = reader.ValueTextEquals("bucket"u8);
            var isObject = reader.ValueTextEquals("object"u8);
            reader.Read();
            if (isBucket)
            {
                bucket = StringProperty(ref reader, "name"u8);
            }
            else if (isObject)
            {
                key = StringProperty(ref reader, "key"u8);
            }
            else
            {
                reader.Skip();
            }
        }

        return (bucket, key);
    }

    // The string property <paramref name="name"/> of the object the reader is on (null when it is not an object, or
    // has no such string); leaves the reader on the value's end.
    private static string? StringProperty(ref Utf8JsonReader reader, ReadOnlySpan<byte> name)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            reader.Skip();
            return null;
        }

        string? value = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var match = reader.ValueTextEquals(name);
            reader.Read();
            if (match && reader.TokenType == JsonTokenType.String)
            {
                value = reader.GetString();
            }
            else
            {
                reader.Skip();
            }
        }

        return value;
    }
}
