// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Nexus.Node;

/// <summary>
/// Reads <c>node.json</c> over the defaults. Every error reads <c>FILE:LINE: field: problem</c> (lines counted from 1,
/// as editors do), as function.yaml's do: System.Text.Json's own messages name .NET types and count lines from 0.
/// </summary>
internal static class NodeConfigFile
{
    private static JsonTypeInfo<NodeOptions> TypeInfo => NodeOptionsJson.Default.NodeOptions;

    // The settings as node.json spells them: the properties less the derived ones, those set by the code and home (where
    // node.json is, not in it).
    private static readonly string[] s_settings =
    [
        .. typeof(NodeOptions).GetProperties()
            .Where(p => p.CanWrite && p.Name != nameof(NodeOptions.Home) && p.GetCustomAttributes(typeof(JsonIgnoreAttribute), inherit: false).Length == 0)
            .Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name))
            .Order(StringComparer.Ordinal),
    ];

    /// <summary>The file's settings over <paramref name="defaults"/>, validated; <see cref="InvalidDataException"/> naming the file, line and field otherwise.</summary>
    public static NodeOptions Read(string path, NodeOptions defaults)
    {
        var bytes = File.ReadAllBytes(path);
        var lines = TopLevelFields(path, bytes);
        NodeOptions options;
        try
        {
            // The file on its own first, so that a type error's position is the file's (the source-generated reader gives
            // a field the file leaves out its type's default, not the property's, so that reading's values are not the options).
            _ = JsonSerializer.Deserialize(bytes, TypeInfo);
            var merged = JsonSerializer.SerializeToNode(defaults, TypeInfo)!.AsObject();
            foreach (var (key, value) in JsonNode.Parse(bytes)!.AsObject())
            {
                merged[key] = value?.DeepClone();
            }

            options = merged.Deserialize(TypeInfo)! with { Home = defaults.Home };
        }
        catch (JsonException e)
        {
            throw TypeError(path, bytes, e);
        }

        try
        {
            options.Validate();
        }
        catch (NodeSettingException e)
        {
            var field = e.Setting.Split('.')[0];
            throw new InvalidDataException(lines.TryGetValue(field, out var line)
                ? $"{path}:{line}: {e.Setting}: {e.Problem}"
                : $"{path}: {e.Setting}: {e.Problem}");
        }

        return options;
    }

    // The line of each top-level field; a syntax error, a file that is not an object, an unknown or repeated field refused.
    private static Dictionary<string, long> TopLevelFields(string path, byte[] bytes)
    {
        var fields = new Dictionary<string, long>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new InvalidDataException($"{path}:{LineAt(bytes, reader.TokenStartIndex)}: expected a JSON object of settings ({{\"keepAliveSeconds\": 600, ...}})");
            }

            while (reader.Read())
            {
                if (reader.TokenType == JsonTokenType.PropertyName && reader.CurrentDepth == 1)
                {
                    var name = reader.GetString()!;
                    var line = LineAt(bytes, reader.TokenStartIndex);
                    if (name == "home")
                    {
                        throw new InvalidDataException($"{path}:{line}: home: not a node.json setting (the home is where node.json is: --home or NEXUS_HOME)");
                    }

                    if (Array.BinarySearch(s_settings, name, StringComparer.Ordinal) < 0)
                    {
                        throw new InvalidDataException($"{path}:{line}: {name}: unknown field ({SuggestionFor(name)}docs/node.md lists the settings)");
                    }

                    if (!fields.TryAdd(name, line))
                    {
                        throw new InvalidDataException($"{path}:{line}: {name}: set twice (first on line {fields[name]})");
                    }
                }
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}:{e.LineNumber + 1}: not valid JSON: {WithoutPosition(e.Message)}", e);
        }

        return fields;
    }

    // A value of the wrong kind: the field by its path in the file, what it takes, and what the file has.
    private static InvalidDataException TypeError(string path, byte[] bytes, JsonException e)
    {
        var line = e.LineNumber is { } zeroBased ? string.Create(CultureInfo.InvariantCulture, $":{zeroBased + 1}") : "";
        if (e.Path is not { Length: > 2 } jsonPath || !jsonPath.StartsWith("$.", StringComparison.Ordinal))
        {
            return new InvalidDataException($"{path}{line}: {WithoutPosition(e.Message)}", e);
        }

        var segments = jsonPath[2..].Split('.');
        var field = string.Join('.', segments);
        JsonNode? value = JsonNode.Parse(bytes);
        JsonTypeInfo? type = TypeInfo;
        foreach (var segment in segments)
        {
            value = value is JsonObject o && o.TryGetPropertyValue(segment, out var v) ? v : null;
            type = type?.Kind switch
            {
                JsonTypeInfoKind.Object => type.Properties.FirstOrDefault(p => p.Name == segment)?.PropertyType is { } t ? NodeOptionsJson.Default.GetTypeInfo(t) : null,
                JsonTypeInfoKind.Dictionary => type.ElementType is { } t ? NodeOptionsJson.Default.GetTypeInfo(t) : null,
                _ => null,
            };
        }

        var got = value?.ToJsonString() ?? "null";
        got = got.Length > 60 ? got[..57] + "..." : got;
        return new InvalidDataException($"{path}{line}: {field}: expected {(type is null ? "another kind of value" : KindOf(type))}, got {got}", e);
    }

    private static string KindOf(JsonTypeInfo type) => type.Kind switch
    {
        JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "an object",
        JsonTypeInfoKind.Enumerable => "a list",
        _ => (Nullable.GetUnderlyingType(type.Type) ?? type.Type) switch
        {
            var t when t == typeof(int) || t == typeof(long) => "a whole number",
            var t when t == typeof(double) => "a number",
            var t when t == typeof(bool) => "true or false",
            var t when t == typeof(string) => "a string",
            _ => "another kind of value",
        },
    };

    // System.Text.Json ends its messages with its own, 0-based position, which the message's prefix already gives right.
    private static string WithoutPosition(string message) =>
        message.IndexOf(" LineNumber: ", StringComparison.Ordinal) is var at and >= 0 ? message[..at].TrimEnd(' ', '|', '.') : message;

    private static long LineAt(byte[] bytes, long offset) => 1 + bytes.AsSpan(0, (int)Math.Min(offset, bytes.Length)).Count((byte)'\n');

    // The setting one typo away (a letter wrong, missing, extra or swapped; or its case), if there is one.
    private static string SuggestionFor(string name)
    {
        var best = s_settings.MinBy(s => Distance(name.ToLowerInvariant(), s.ToLowerInvariant()));
        return best is not null && Distance(name.ToLowerInvariant(), best.ToLowerInvariant()) <= Math.Max(1, name.Length / 4)
            ? $"did you mean {best}? "
            : "";
    }

    private static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (var i = 1; i <= a.Length; i++)
        {
            var diagonal = row[0];
            row[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }

        return row[b.Length];
    }
}
