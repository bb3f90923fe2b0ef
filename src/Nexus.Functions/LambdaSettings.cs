// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Nexus.Functions;

/// <summary>
/// The manifest fields the Lambda API sets (CreateFunction, UpdateFunctionConfiguration: the name, Handler, Timeout,
/// MemorySize, Description and Environment), written over a <c>function.yaml</c>'s text with its other fields (the
/// Nexus settings: io, storage, services, ...) kept as they are. A null field is left as the text has it.
/// </summary>
public sealed record LambdaSettings
{
    public string? Name { get; init; }

    public string? Handler { get; init; }

    public int? TimeoutSeconds { get; init; }

    public int? MemoryMb { get; init; }

    public string? Description { get; init; }

    /// <summary>The whole set of variables (Lambda's Environment replaces the function's, it does not merge).</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }

    /// <summary>A deployed manifest's values of these fields.</summary>
    public static LambdaSettings Of(FunctionManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        return new()
        {
            Name = manifest.Name,
            Handler = manifest.Handler,
            TimeoutSeconds = (int)manifest.Timeout.TotalSeconds,
            MemoryMb = manifest.MemoryMb,
            Description = manifest.Description,
            Environment = manifest.Environment,
        };
    }

    /// <summary>
    /// <paramref name="yaml"/> (a manifest's text; null: no manifest) with these fields set; with
    /// <paramref name="onlyWhereMissing"/>, only those it does not give. Throws <see cref="ManifestException"/> when the
    /// text is not a manifest's mapping; the result is checked by the parser as any manifest is.
    /// </summary>
    public string Over(string? yaml, bool onlyWhereMissing = false)
    {
        var root = string.IsNullOrWhiteSpace(yaml) ? new YamlMappingNode() : ManifestParser.LoadRoot(yaml, ManifestParser.FileName);
        Set(root, "name", Name is null ? null : Text(Name), onlyWhereMissing);
        Set(root, "handler", Handler is null ? null : Text(Handler), onlyWhereMissing);
        Set(root, "timeout", TimeoutSeconds is { } timeout ? new YamlScalarNode(timeout.ToString(CultureInfo.InvariantCulture)) : null, onlyWhereMissing);
        Set(root, "memory", MemoryMb is { } memory ? new YamlScalarNode(memory.ToString(CultureInfo.InvariantCulture)) : null, onlyWhereMissing);
        Set(root, "description", Description is null ? null : Text(Description), onlyWhereMissing);
        if (Environment is not null)
        {
            var variables = new YamlMappingNode();
            foreach (var (name, value) in Environment)
            {
                variables.Add(Text(name), Text(value));
            }

            Set(root, "environment", variables, onlyWhereMissing);
        }

        using var writer = new StringWriter(CultureInfo.InvariantCulture);
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    // Quoted, so that a value such as "true", "010" or "null" stays the text it was given.
    private static YamlScalarNode Text(string value) => new(value) { Style = ScalarStyle.DoubleQuoted };

    private static void Set(YamlMappingNode root, string field, YamlNode? value, bool onlyWhereMissing)
    {
        if (value is null)
        {
            return;
        }

        var existing = root.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: { } key } && key == field);
        if (existing is not null)
        {
            if (onlyWhereMissing)
            {
                return;
            }

            root.Children.Remove(existing);
        }

        root.Add(field, value);
    }
}
