// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Xml.Linq;
using Nexus.Functions;

namespace Nexus.Store;

/// <summary>An object's tag set in the store's HTTP forms, under <see cref="ObjectTagRules"/> (S3's limits).</summary>
internal static class ObjectTags
{
    /// <summary>The x-amz-tagging header of a write, validated (S3's errors when it breaks a rule).</summary>
    public static List<KeyValuePair<string, string>> ParseHeader(string header)
    {
        try
        {
            return ObjectTagRules.ParseHeader(header);
        }
        catch (InvalidTagsException e)
        {
            throw new S3Exception(400, e.Code, e.Message);
        }
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

        try
        {
            return ObjectTagRules.Validate(tags);
        }
        catch (InvalidTagsException e)
        {
            throw new S3Exception(400, e.Code, e.Message);
        }
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
}
