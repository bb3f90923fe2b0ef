// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using YamlDotNet.RepresentationModel;

namespace Nexus.Functions;

/// <summary>The <c>logging:</c> field of a manifest: Lambda's LoggingConfig (format, application and system levels).</summary>
public static partial class ManifestParser
{
    internal static readonly string[] KnownLoggingFields = ["format", "applicationLogLevel", "systemLogLevel"];

    private static FunctionLogging ParseLogging(YamlNode node, string fileName)
    {
        if (node is not YamlMappingNode map)
        {
            throw new ManifestException(fileName, Line(node), "logging", "expected a mapping (format: JSON, applicationLogLevel: INFO, systemLogLevel: WARN)");
        }

        var fields = new Dictionary<string, (YamlNode Node, int Line)>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            var key = ScalarKey(k, fileName, "logging");
            if (!KnownLoggingFields.Contains(key))
            {
                throw new ManifestException(fileName, Line(k), $"logging.{key}", $"unknown field (known fields: {string.Join(", ", KnownLoggingFields)})");
            }

            fields[key] = (v, Line(k));
        }

        var json = false;
        if (fields.TryGetValue("format", out var format))
        {
            json = Scalar(format, fileName, "logging.format") switch
            {
                "Text" => false,
                "JSON" => true,
                var other => throw new ManifestException(fileName, format.Line, "logging.format", $"expected 'Text' or 'JSON' (Lambda's log formats), got '{other}'"),
            };
        }

        var application = Level(fields, "applicationLogLevel", FunctionLogging.ApplicationLevels, json, fileName);
        var system = Level(fields, "systemLogLevel", FunctionLogging.SystemLevels, json, fileName);
        return json ? new FunctionLogging(true, application ?? "INFO", system ?? "INFO") : FunctionLogging.Text;
    }

    private static string? Level(Dictionary<string, (YamlNode Node, int Line)> fields, string name, IReadOnlyList<string> levels, bool json, string fileName)
    {
        if (!fields.TryGetValue(name, out var field))
        {
            return null;
        }

        var level = Scalar(field, fileName, "logging." + name);
        if (!levels.Contains(level))
        {
            throw new ManifestException(fileName, field.Line, "logging." + name, $"expected one of {string.Join(", ", levels)}, got '{level}'");
        }

        // As Lambda's API: the levels filter JSON records only.
        return json ? level : throw new ManifestException(fileName, field.Line, "logging." + name, "is set only with format: JSON (as on Lambda, log levels filter JSON records)");
    }
}
