// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Xml.Linq;

namespace Nexus.Store;

/// <summary>
/// An object's tag set as S3 limits it: at most 10 tags, keys of 1..128 and values of 0..256 Unicode characters
/// drawn from letters, digits, white space and <c>+ - = . _ : / @</c>, no duplicate keys, no <c>aws:</c> prefix.
/// Parsed from the <c>x-amz-tagging</c> header (URL query encoding) or a <c>&lt;Tagging&gt;</c> document.
/// </summary>
internal static class ObjectTags
{
    public const int MaxTags = 10;
    public const int MaxKeyLength = 128;
    public const int MaxValueLength = 256;

    public const string Header = "x-amz-tagging";

    /// <summary>Parses <c>k1=v1&amp;k2=v2</c> (form encoding: '+' is a space, %XX escapes UTF-8).</summary>
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

            var eq = part.IndexOf('=');
            var key = Decode(eq < 0 ? part : part[..eq]);
            var value = eq < 0 ? string.Empty : Decode(part[(eq + 1)..]);
            tags.Add(new(key, value));
        }

        return Validate(tags);
    }

    /// <summary>Parses a PutObjectTagging body: &lt;Tagging&gt;&lt;TagSet&gt;&lt;Tag&gt;&lt;Key/&gt;&lt;Value/&gt;&lt;/Tag&gt;...</summary>
    public static List<KeyValuePair<string, string>> ParseDocument(XElement root)
    {
        if (root.Name.LocalName != "Tagging")
        {
            throw S3Errors.MalformedXml($"expected a <Tagging> document, got <{root.Name.LocalName}>.");
        }

        var tagSet = root.Elements().SingleOrDefault(e => e.Name.LocalName == "TagSet")
            ?? throw S3Errors.MalformedXml("<Tagging> needs one <TagSet>.");
        var tags = new List<KeyValuePair<string, string>>();
        foreach (var tag in tagSet.Elements())
        {
            if (tag.Name.LocalName != "Tag")
            {
                throw S3Errors.MalformedXml($"<TagSet> holds only <Tag> elements, not <{tag.Name.LocalName}>.");
            }

            string? key = null, value = null;
            foreach (var field in tag.Elements())
            {
                switch (field.Name.LocalName)
                {
                    case "Key" when key is null: key = field.Value; break;
                    case "Value" when value is null: value = field.Value; break;
                    default: throw S3Errors.MalformedXml($"a <Tag> holds one <Key> and one <Value>; <{field.Name.LocalName}> is not expected there.");
                }
            }

            if (key is null || value is null)
            {
                throw S3Errors.MalformedXml("every <Tag> needs a <Key> and a <Value>.");
            }

            tags.Add(new(key, value));
        }

        return Validate(tags);
    }

    public static string ToDocument(IReadOnlyList<KeyValuePair<string, string>> tags)
    {
        var xml = new S3Xml("Tagging").Open("TagSet");
        foreach (var (key, value) in tags)
        {
            xml.Open("Tag").Element("Key", key).Element("Value", value).Close("Tag");
        }

        return xml.Close("TagSet").Finish("Tagging");
    }

    private static List<KeyValuePair<string, string>> Validate(List<KeyValuePair<string, string>> tags)
    {
        if (tags.Count > MaxTags)
        {
            throw new S3Exception(400, "BadRequest", $"Object tags cannot be greater than {MaxTags}; got {tags.Count}.");
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
        try
        {
            return Uri.UnescapeDataString(encoded.ToString().Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            throw S3Errors.InvalidArgument($"The header '{Header}' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.");
        }
    }

    private static string Printable(string text)
    {
        var shown = text.Length > 40 ? text[..40] + "…" : text;
        return string.Concat(shown.Select(c => char.IsControl(c) ? $"\\u{(int)c:x4}" : c.ToString()));
    }

    private static S3Exception InvalidTag(string message) => new(400, "InvalidTag", message);
}
