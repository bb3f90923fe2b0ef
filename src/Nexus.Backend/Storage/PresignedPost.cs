// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.Runtime.Internal.Auth;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Storage;

/// <summary>
/// A presigned POST (boto3's <c>generate_presigned_post</c>): the fields of a browser-form upload to the node's storage
/// endpoint, with a policy signed by the node's key (SigV4 POST: HMAC of the base64 policy). The backend writes the
/// conditions that pin the upload to the bucket and key (or the key's prefix before <c>${filename}</c>) itself, after
/// checking that the function may write there; the sandbox's own conditions are kept, and can only narrow the upload
/// further (every condition must hold).
/// </summary>
internal static class PresignedPost
{
    public const string Operation = "PostObject";

    private const string FileNamePlaceholder = "${filename}";
    private const int MaxConditions = 64;

    /// <summary>The form fields the backend sets; the sandbox's Fields may not replace them.</summary>
    private static readonly HashSet<string> s_signedFields = new(StringComparer.OrdinalIgnoreCase)
    {
        "key", "policy", "x-amz-algorithm", "x-amz-credential", "x-amz-date", "x-amz-signature", "x-amz-security-token",
    };

    /// <summary>
    /// Checks that the function may write what the form upload may write: its key, or with <c>${filename}</c> (the
    /// client picks the rest of the key) every key under the prefix before it. Answers the bucket and that key or prefix.
    /// </summary>
    public static (string Bucket, string KeyOrPrefix, bool IsPrefix) Authorize(FunctionManifest manifest, JsonElement p)
    {
        var bucket = ChannelJson.RequiredString(p, "Bucket");
        var key = ChannelJson.RequiredString(p, "Key");
        var placeholder = key.IndexOf(FileNamePlaceholder, StringComparison.Ordinal);
        var (keyOrPrefix, isPrefix) = placeholder < 0 ? (key, false) : (key[..placeholder], true);
        StorageAuthorization.Authorize(manifest, bucket, keyOrPrefix, StorageAccess.Write, keyIsPrefix: isPrefix);
        return (bucket, keyOrPrefix, isPrefix);
    }

    /// <summary>Checks the grant, builds and signs the policy; answers <c>(url, fields)</c> as boto3 returns them.</summary>
    public static (string Url, Dictionary<string, string> Fields) Sign(FunctionManifest manifest, NexusBackendOptions options, JsonElement p, int expiresIn, DateTime now)
    {
        var (bucket, keyOrPrefix, isPrefix) = Authorize(manifest, p);

        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in ChannelJson.OptionalStringMap(p, "Fields"))
        {
            if (s_signedFields.Contains(name))
            {
                throw ChannelRequestException.Invalid($"Fields may not set {StorageAuthorization.Quote(name)}: the node sets it when it signs");
            }

            fields[name] = value;
        }

        var amzDate = now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        var date = amzDate[..8];
        var credential = $"{options.AccessKey}/{date}/{options.Region}/s3/aws4_request";
        var policy = ChannelJson.Write(w =>
        {
            w.WriteStartObject();
            w.WriteString("expiration", now.AddSeconds(expiresIn).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
            w.WriteStartArray("conditions");
            WriteConditions(w, p);
            WriteMatch(w, "bucket", bucket);
            if (isPrefix)
            {
                w.WriteStartArray();
                w.WriteStringValue("starts-with");
                w.WriteStringValue("$key");
                w.WriteStringValue(keyOrPrefix);
                w.WriteEndArray();
            }
            else
            {
                WriteMatch(w, "key", keyOrPrefix);
            }

            WriteMatch(w, "x-amz-algorithm", "AWS4-HMAC-SHA256");
            WriteMatch(w, "x-amz-credential", credential);
            WriteMatch(w, "x-amz-date", amzDate);
            w.WriteEndArray();
            w.WriteEndObject();
        });
        var encoded = Convert.ToBase64String(policy);
        var signingKey = AWS4Signer.ComposeSigningKey(options.SecretKey, options.Region, date, "s3");
        var signature = Convert.ToHexStringLower(AWS4Signer.ComputeKeyedHash(SigningAlgorithm.HmacSHA256, signingKey, encoded));

        fields["key"] = ChannelJson.RequiredString(p, "Key");
        fields["x-amz-algorithm"] = "AWS4-HMAC-SHA256";
        fields["x-amz-credential"] = credential;
        fields["x-amz-date"] = amzDate;
        fields["policy"] = encoded;
        fields["x-amz-signature"] = signature;
        return (options.ServiceUrl.TrimEnd('/') + "/" + bucket, fields);
    }

    /// <summary>The sandbox's conditions, each re-written from its parsed form: an object of strings, or a three-element array of strings and integers.</summary>
    private static void WriteConditions(Utf8JsonWriter w, JsonElement p)
    {
        if (!p.TryGetProperty("Conditions", out var conditions) || conditions.ValueKind == JsonValueKind.Null)
        {
            return;
        }

        if (conditions.ValueKind != JsonValueKind.Array || conditions.GetArrayLength() > MaxConditions)
        {
            throw ChannelRequestException.Invalid($"Conditions must be a list of at most {MaxConditions} conditions");
        }

        foreach (var condition in conditions.EnumerateArray())
        {
            var valid = condition.ValueKind switch
            {
                JsonValueKind.Object => condition.EnumerateObject().All(m => m.Value.ValueKind == JsonValueKind.String),
                JsonValueKind.Array => condition.GetArrayLength() == 3 && condition.EnumerateArray().All(e => e.ValueKind is JsonValueKind.String or JsonValueKind.Number),
                _ => false,
            };
            if (!valid)
            {
                throw ChannelRequestException.Invalid($"a condition is {{\"field\": \"value\"}} or [\"eq\" | \"starts-with\" | \"content-length-range\", ..., ...], not {StorageAuthorization.Quote(condition.GetRawText())}");
            }

            condition.WriteTo(w);
        }
    }

    private static void WriteMatch(Utf8JsonWriter w, string name, string value)
    {
        w.WriteStartObject();
        w.WriteString(name, value);
        w.WriteEndObject();
    }
}
