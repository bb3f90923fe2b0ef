// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;

namespace Nexus.Functions;

/// <summary>A tag set S3 would refuse: <see cref="Code"/> is S3's error code (BadRequest, InvalidTag, InvalidArgument).</summary>
public sealed class InvalidTagsException(string code, string message) : Exception(message)
{
    public string Code { get; } = code;
}

/// <summary>
/// S3's rules for an object's tag set, shared by the store (which enforces them as S3 does) and the backend (which checks
/// what a sandbox sends before anything leaves the host): at most 10 tags, keys of 1..128 and values of 0..256 Unicode
/// characters drawn from letters, digits, white space and <c>+ - = . _ : / @</c>, no duplicate keys, no <c>aws:</c> prefix.
/// </summary>
public static class ObjectTagRules
{
    public const int MaxTags = 10;
    public const int MaxKeyLength = 128;
    public const int MaxValueLength = 256;

    /// <summary>The header that carries a write's tags, URL query encoded.</summary>
    public const string Header = "x-amz-tagging";

    /// <summary>Parses <c>k1=v1&amp;k2=v2</c> (form encoding: '+' is a space, %XX escapes UTF-8) and validates it.</summary>
    public static List<KeyValuePair<string, string>> ParseHeader(string header)
    {
        var tags = new List<KeyValuePair<string, string>>();
        foreach (var range in header.AsSpan().Split('&'))
        {
            var part = header.AsSpan(range);
            if (part.IsEmpty)
            {
                continue;
            }

            if (tags.Count == MaxTags)
            {
                throw TooMany(header.Split('&').Count(p => p.Length > 0));
            }

            var eq = part.IndexOf('=');
            var key = Decode(eq < 0 ? part : part[..eq]);
            var value = eq < 0 ? string.Empty : Decode(part[(eq + 1)..]);
            tags.Add(new(key, value));
        }

        return Validate(tags);
    }

    /// <summary>Throws <see cref="InvalidTagsException"/> naming the first rule <paramref name="tags"/> breaks.</summary>
    public static List<KeyValuePair<string, string>> Validate(List<KeyValuePair<string, string>> tags)
    {
        if (tags.Count > MaxTags)
        {
            throw TooMany(tags.Count);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in tags)
        {
            Check(key, "TagKey", 1, MaxKeyLength);
            Check(value, "TagValue", 0, MaxValueLength);
            if (key.StartsWith("aws:", StringComparison.OrdinalIgnoreCase))
            {
                throw InvalidTag($"Your TagKey cannot be prefixed with aws: ('{key}').");
            }

            if (!seen.Add(key))
            {
                throw InvalidTag($"Cannot provide multiple Tags with the same key: '{key}'.");
            }
        }

        return tags;
    }

    /// <summary>The tag set in the URL query encoding of <see cref="Header"/>.</summary>
    public static string ToHeader(IEnumerable<KeyValuePair<string, string>> tags) =>
        string.Join('&', tags.Select(t => Uri.EscapeDataString(t.Key) + "=" + Uri.EscapeDataString(t.Value)));

    public static InvalidTagsException TooMany(int count) => new("BadRequest", $"Object tags cannot be greater than {MaxTags}; got {count}.");

    private static void Check(string text, string what, int min, int max)
    {
        var length = 0;
        foreach (var rune in text.EnumerateRunes())
        {
            length++;
            if (!(Rune.IsLetterOrDigit(rune) || Rune.IsWhiteSpace(rune) || (rune.IsAscii && "+-=._:/@".Contains((char)rune.Value, StringComparison.Ordinal))))
            {
                throw InvalidTag($"The {what} you have provided is invalid: '{Printable(text)}' contains {Printable(rune.ToString())} (allowed: letters, digits, spaces and + - = . _ : / @).");
            }
        }

        if (length > max)
        {
            throw InvalidTag($"The {what} you have provided is too long, max {max}: {length} characters.");
        }

        if (length < min)
        {
            throw InvalidTag($"The {what} you have provided is invalid: it is empty.");
        }
    }

    private static string Decode(ReadOnlySpan<char> encoded)
    {
        // A valid value is at most 256 characters of up to 4 UTF-8 bytes, each escaped as %XX.
        if (encoded.Length > 3 * 4 * MaxValueLength)
        {
            throw InvalidTag($"a tag in {Header} is longer than any valid tag ({encoded.Length} encoded characters).");
        }

        try
        {
            return Uri.UnescapeDataString(encoded.ToString().Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            throw new InvalidTagsException("InvalidArgument", $"The header '{Header}' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.");
        }
    }

    private static string Printable(string text)
    {
        var shown = text.Length > 40 ? text[..40] + "…" : text;
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    private static InvalidTagsException InvalidTag(string message) => new("InvalidTag", message);
}
