// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text;

namespace Nexus.Store;

/// <summary>AWS Signature Version 4 building blocks, shared by the verifier, the chunk decoder and tests.</summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string UnsignedPayload = "UNSIGNED-PAYLOAD";
    public const string StreamingSigned = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
    public const string StreamingSignedTrailer = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
    public const string StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";

    /// <summary>Hex SHA-256 of the empty string.</summary>
    public const string EmptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>
    /// URI-encodes as SigV4 requires: every UTF-8 byte except A-Z a-z 0-9 - _ . ~ becomes %XX (upper-case hex),
    /// space is %20, and '/' is kept only when <paramref name="keepSlash"/>.
    /// </summary>
    public static string UriEncode(ReadOnlySpan<char> value, bool keepSlash)
    {
        var needs = false;
        foreach (var c in value)
        {
            if (!IsUnreserved(c) && !(keepSlash && c == '/'))
            {
                needs = true;
                break;
            }
        }

        if (!needs)
        {
            return value.ToString();
        }

        var builder = new StringBuilder(value.Length * 3);
        AppendUriEncoded(builder, value, keepSlash);
        return builder.ToString();
    }

    public static void AppendUriEncoded(StringBuilder builder, ReadOnlySpan<char> value, bool keepSlash)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < value.Length; i++)
        {
            var c = value[i];
            if (IsUnreserved(c) || (keepSlash && c == '/'))
            {
                builder.Append(c);
                continue;
            }

            int count;
            if (char.IsHighSurrogate(c) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                count = new Rune(c, value[i + 1]).EncodeToUtf8(utf8);
                i++;
            }
            else
            {
                count = (Rune.TryCreate(c, out var rune) ? rune : Rune.ReplacementChar).EncodeToUtf8(utf8);
            }

            for (var b = 0; b < count; b++)
            {
                builder.Append('%').Append(HexUpper[utf8[b] >> 4]).Append(HexUpper[utf8[b] & 0xF]);
            }
        }
    }

    private const string HexUpper = "0123456789ABCDEF";

    private static bool IsUnreserved(char c) =>
        char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_' || c == '.' || c == '~';

    /// <summary>Percent-decodes a URI component as UTF-8; '+' stays '+' (SigV4 clients always encode spaces).</summary>
    public static string UriDecode(string value) =>
        value.Contains('%', StringComparison.Ordinal) ? Uri.UnescapeDataString(value) : value;

    /// <summary>
    /// The canonical query string: each name and value decoded then re-encoded, sorted by name then value,
    /// a parameter without '=' having an empty value; <paramref name="skip"/> (X-Amz-Signature) is left out.
    /// </summary>
    public static string CanonicalQuery(string rawQuery, string? skip = null)
    {
        if (rawQuery.Length == 0)
        {
            return string.Empty;
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var range in rawQuery.AsSpan().Split('&'))
        {
            var part = rawQuery.AsSpan(range);
            if (part.IsEmpty)
            {
                continue;
            }

            var eq = part.IndexOf('=');
            var name = UriDecode((eq < 0 ? part : part[..eq]).ToString());
            if (skip is not null && name == skip)
            {
                continue;
            }

            var value = eq < 0 ? string.Empty : UriDecode(part[(eq + 1)..].ToString());
            pairs.Add(new(UriEncode(name, keepSlash: false), UriEncode(value, keepSlash: false)));
        }

        pairs.Sort(static (a, b) =>
        {
            var byName = string.CompareOrdinal(a.Key, b.Key);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });

        var builder = new StringBuilder(rawQuery.Length + 16);
        for (var i = 0; i < pairs.Count; i++)
        {
            if (i > 0)
            {
                builder.Append('&');
            }

            builder.Append(pairs[i].Key).Append('=').Append(pairs[i].Value);
        }

        return builder.ToString();
    }

    /// <summary>A header value as SigV4 canonicalizes it: trimmed, runs of spaces collapsed to one.</summary>
    public static void AppendCanonicalHeaderValue(StringBuilder builder, ReadOnlySpan<char> value)
    {
        value = value.Trim(' ').Trim('\t');
        var lastWasSpace = false;
        foreach (var c in value)
        {
            if (c == ' ' || c == '\t')
            {
                if (!lastWasSpace)
                {
                    builder.Append(' ');
                }

                lastWasSpace = true;
            }
            else
            {
                builder.Append(c);
                lastWasSpace = false;
            }
        }
    }

    public static string StringToSign(string amzDate, string scope, string canonicalRequest) =>
        string.Concat(Algorithm, "\n", amzDate, "\n", scope, "\n", HexSha256(canonicalRequest));

    public static byte[] DeriveSigningKey(string secretAccessKey, string date, string region, string service)
    {
        var key = HMACSHA256.HashData(Encoding.UTF8.GetBytes("AWS4" + secretAccessKey), Encoding.UTF8.GetBytes(date));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(region));
        key = HMACSHA256.HashData(key, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(key, "aws4_request"u8);
    }

    /// <summary>Lower-case hex HMAC-SHA256 of <paramref name="stringToSign"/>.</summary>
    public static string Sign(byte[] signingKey, string stringToSign) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign)));

    public static string HexSha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>The string to sign for one aws-chunked chunk (STREAMING-AWS4-HMAC-SHA256-PAYLOAD).</summary>
    public static string ChunkStringToSign(string amzDate, string scope, string previousSignature, string chunkHexSha256) =>
        string.Concat("AWS4-HMAC-SHA256-PAYLOAD\n", amzDate, "\n", scope, "\n", previousSignature, "\n", EmptyHash, "\n", chunkHexSha256);

    /// <summary>The string to sign for the trailing headers of a signed aws-chunked body.</summary>
    public static string TrailerStringToSign(string amzDate, string scope, string previousSignature, string trailerHexSha256) =>
        string.Concat("AWS4-HMAC-SHA256-TRAILER\n", amzDate, "\n", scope, "\n", previousSignature, "\n", trailerHexSha256);

    /// <summary>A payload hash S3 takes in x-amz-content-sha256: a hex SHA-256, UNSIGNED-PAYLOAD or a STREAMING-* token.</summary>
    internal static bool IsKnownPayloadHash(string value) =>
        IsHexSha256(value) || value is UnsignedPayload or StreamingSigned or StreamingSignedTrailer or StreamingUnsignedTrailer;

    internal static bool IsHexSha256(ReadOnlySpan<char> value)
    {
        if (value.Length != 64)
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        return true;
    }
}
