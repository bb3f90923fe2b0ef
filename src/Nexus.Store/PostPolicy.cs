// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;

namespace Nexus.Store;

/// <summary>
/// The policy document of a browser-form POST upload (what <c>generate_presigned_post</c> signs): an expiration and
/// conditions every form field and the upload must meet. S3's rules: exact matches (<c>{"key": "a"}</c> or
/// <c>["eq", "$key", "a"]</c>), prefixes (<c>["starts-with", "$key", "in/"]</c>), a size range
/// (<c>["content-length-range", min, max]</c>); every form field but the policy, the signature, the file and
/// <c>x-ignore-*</c> must be named by a condition; all conditions must hold.
/// </summary>
internal sealed class PostPolicy
{
    private const int MaxPolicyBytes = 20 * 1024;

    private readonly List<(string Operator, string Field, string Value)> _matches = [];

    private PostPolicy(DateTimeOffset expiration) => Expiration = expiration;

    public DateTimeOffset Expiration { get; }

    /// <summary>The content-length-range condition (inclusive), or none.</summary>
    public (long Min, long Max)? LengthRange { get; private set; }

    /// <summary>Parses a base64 policy field; MalformedPOSTRequest-style InvalidPolicyDocument errors say what is wrong.</summary>
    public static PostPolicy Parse(string base64)
    {
        byte[] json;
        try
        {
            json = Convert.FromBase64String(base64);
        }
        catch (FormatException)
        {
            throw Invalid("the policy is not base64");
        }

        if (json.Length > MaxPolicyBytes)
        {
            throw Invalid($"the policy is larger than {MaxPolicyBytes} bytes");
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object
                || !root.TryGetProperty("expiration", out var expiration) || expiration.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(expiration.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var expires))
            {
                throw Invalid("the policy has no valid \"expiration\" (ISO 8601)");
            }

            if (!root.TryGetProperty("conditions", out var conditions) || conditions.ValueKind != JsonValueKind.Array)
            {
                throw Invalid("the policy has no \"conditions\" array");
            }

            var policy = new PostPolicy(expires);
            foreach (var condition in conditions.EnumerateArray())
            {
                policy.Add(condition);
            }

            return policy;
        }
        catch (JsonException e)
        {
            throw Invalid("the policy is not JSON: " + e.Message);
        }
    }

    /// <summary>
    /// Checks the form against the conditions (field names case-insensitive; "bucket" is the URL's bucket, "key" the
    /// key after ${filename}); throws AccessDenied "Invalid according to Policy: ..." as S3 words it.
    /// </summary>
    public void Check(IReadOnlyDictionary<string, string> fields, DateTimeOffset now, IReadOnlyCollection<string> signatureFields)
    {
        if (now >= Expiration)
        {
            throw Denied("Policy expired.");
        }

        foreach (var (op, field, value) in _matches)
        {
            var actual = fields.GetValueOrDefault(field);
            var holds = op == "eq" ? actual == value : actual is not null && actual.StartsWith(value, StringComparison.Ordinal);
            if (!holds)
            {
                throw Denied($"Policy Condition failed: [\"{op}\", \"${field}\", \"{value}\"]");
            }
        }

        foreach (var name in fields.Keys)
        {
            if (name is not ("policy" or "file" or "bucket") && !signatureFields.Contains(name) && !name.StartsWith("x-ignore-", StringComparison.Ordinal)
                && !_matches.Any(m => m.Field == name))
            {
                throw Denied($"Extra input fields: {name}");
            }
        }
    }

    private void Add(JsonElement condition)
    {
        if (condition.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in condition.EnumerateObject())
            {
                _matches.Add(("eq", property.Name.ToLowerInvariant(), Text(property.Value)));
            }

            return;
        }

        if (condition.ValueKind != JsonValueKind.Array || condition.GetArrayLength() != 3)
        {
            throw Invalid($"a condition is an object or a three-element array, not {condition.GetRawText()}");
        }

        var op = Text(condition[0]).ToLowerInvariant();
        if (op == "content-length-range")
        {
            if (!condition[1].TryGetInt64(out var min) || !condition[2].TryGetInt64(out var max) || min < 0 || max < min)
            {
                throw Invalid("content-length-range takes two integers, min <= max");
            }

            LengthRange = LengthRange is { } range ? (Math.Max(range.Min, min), Math.Min(range.Max, max)) : (min, max);
            return;
        }

        var field = Text(condition[1]);
        if (op is not ("eq" or "starts-with") || !field.StartsWith('$'))
        {
            throw Invalid($"unknown condition {condition.GetRawText()} (eq, starts-with on \"$field\", content-length-range)");
        }

        _matches.Add((op, field[1..].ToLowerInvariant(), Text(condition[2])));
    }

    private static string Text(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? value.GetString()! : throw Invalid($"{value.GetRawText()} is not a string");

    private static S3Exception Invalid(string why) => new(400, "InvalidPolicyDocument", "Invalid Policy: " + why + ".");

    private static S3Exception Denied(string why) => new(403, "AccessDenied", "Invalid according to Policy: " + why);
}
