// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Nexus.Functions;

/// <summary>
/// Reads <c>function.yaml</c> into a <see cref="FunctionManifest"/>. Strict: unknown fields, wrong types and
/// out-of-range values are errors that name the file, the line and the field.
/// </summary>
public static partial class ManifestParser
{
    public const string FileName = "function.yaml";

    public const int MinMemoryMb = 64;
    public const int MaxMemoryMb = 10240;
    public const int MaxTimeoutSeconds = 900;
    public const double MinCpus = 0.1;
    public const double MaxCpus = 64;

    /// <summary>Longest <c>description</c>: Lambda's limit on a function's Description.</summary>
    public const int MaxDescriptionLength = 256;

    /// <summary>Largest manifest file a function folder may hold.</summary>
    public const int MaxManifestBytes = 64 * 1024;

    internal static readonly string[] KnownFields = ["name", "handler", "memory", "cpus", "timeout", "eventRetries", "io", "sandbox", "storage", "environment", "writeback", "prefetch", "inputs", "services", "logging", "description"];
    internal static readonly string[] KnownGrantFields = ["bucket", "prefix", "access"];
    internal static readonly string[] KnownInputFields = ["bucket", "key"];

    /// <summary>Most inputs one manifest may declare.</summary>
    public const int MaxInputs = 16;

    // The node sets these itself; letting a manifest override them would break the runtime or leak identity.
    internal static readonly string[] ReservedPrefixes = ["AWS_", "LAMBDA_", "NEXUS_", "_HANDLER", "_X_AMZN_"];
    internal static readonly string[] ReservedNames = ["PYTHONPATH", "TZ"];

    /// <summary>
    /// Parses and validates the manifest of a function folder, and checks that the handler's module exists there.
    /// <paramref name="maxCpus"/> is the most <c>cpus:</c> the node deploying it allows (node.json <c>maxFunctionCpus</c>).
    /// </summary>
    public static FunctionManifest LoadFolder(string folder, double maxCpus = MaxCpus)
    {
        var path = Path.Combine(folder, FileName);
        if (!Directory.Exists(folder))
        {
            throw new ManifestException(folder, 0, "(folder)", "no such directory");
        }

        if (!File.Exists(path))
        {
            throw new ManifestException(FileName, 0, "(file)", $"not found in {folder}: a function folder needs a {FileName} manifest");
        }

        var info = new FileInfo(path);
        if (info.Length > MaxManifestBytes)
        {
            throw new ManifestException(FileName, 0, "(file)", $"is {info.Length} bytes; a manifest is at most {MaxManifestBytes} bytes");
        }

        var text = File.ReadAllText(path);
        var manifest = Parse(text, FileName, maxCpus, out var handlerLine);
        CheckHandlerModule(folder, manifest.Handler, handlerLine);
        return manifest;
    }

    /// <summary>Parses and validates manifest text; <paramref name="fileName"/> is used in error messages.</summary>
    public static FunctionManifest Parse(string yaml, string fileName = FileName, double maxCpus = MaxCpus) => Parse(yaml, fileName, maxCpus, out _);

    private static FunctionManifest Parse(string yaml, string fileName, double maxCpus, out int handlerLine)
    {
        var root = LoadRoot(yaml, fileName);
        var fields = new Dictionary<string, (YamlNode Node, int Line)>(StringComparer.Ordinal);
        foreach (var (keyNode, valueNode) in root.Children)
        {
            var key = ScalarKey(keyNode, fileName, "(field)");
            if (!KnownFields.Contains(key))
            {
                throw new ManifestException(fileName, Line(keyNode), key, $"unknown field (known fields: {string.Join(", ", KnownFields)})");
            }

            fields[key] = (valueNode, Line(keyNode));
        }

        var rootLine = Line(root);
        var name = RequiredString(fields, "name", fileName, rootLine);
        if (!NamePattern().IsMatch(name))
        {
            throw new ManifestException(fileName, fields["name"].Line, "name", $"expected 1 to 48 characters of a-z, 0-9 and '-', got '{name}'");
        }

        var handler = RequiredString(fields, "handler", fileName, rootLine);
        handlerLine = fields["handler"].Line;
        if (!HandlerPattern().IsMatch(handler))
        {
            throw new ManifestException(fileName, handlerLine, "handler", $"expected 'module.function' (Python identifiers, e.g. handler.handler or src/handler.handler), got '{handler}'");
        }

        var manifest = new FunctionManifest { Name = name, Handler = handler };

        if (fields.TryGetValue("memory", out var memory))
        {
            var text = Scalar(memory, fileName, "memory");
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var mb) || mb < MinMemoryMb || mb > MaxMemoryMb)
            {
                throw new ManifestException(fileName, memory.Line, "memory", $"expected a whole number of MiB between {MinMemoryMb} and {MaxMemoryMb}, got '{text}'");
            }

            manifest = manifest with { MemoryMb = mb };
        }

        if (fields.TryGetValue("cpus", out var cpus))
        {
            var text = Scalar(cpus, fileName, "cpus");
            if (!double.TryParse(text, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var cores) || cores < MinCpus || cores > MaxCpus)
            {
                throw new ManifestException(fileName, cpus.Line, "cpus", $"expected a number of cores between {MinCpus.ToString(CultureInfo.InvariantCulture)} and {MaxCpus}, got '{text}'");
            }

            // Within the format's range, but past what this node gives one function: a tenant's CPU weight follows its
            // cpus (docs/node.md#cpu), so an unbounded ask would buy priority over every other tenant.
            if (cores > maxCpus)
            {
                throw new ManifestException(fileName, cpus.Line, "cpus", $"{text} CPUs is more than this node gives one function: at most {maxCpus.ToString(CultureInfo.InvariantCulture)} (node.json maxFunctionCpus)");
            }

            manifest = manifest with { Cpus = cores };
        }

        if (fields.TryGetValue("timeout", out var timeout))
        {
            var text = Scalar(timeout, fileName, "timeout");
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seconds) || seconds < 1 || seconds > MaxTimeoutSeconds)
            {
                throw new ManifestException(fileName, timeout.Line, "timeout", $"expected a whole number of seconds between 1 and {MaxTimeoutSeconds}, got '{text}'");
            }

            manifest = manifest with { Timeout = TimeSpan.FromSeconds(seconds) };
        }

        if (fields.TryGetValue("eventRetries", out var retries))
        {
            var text = Scalar(retries, fileName, "eventRetries");
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) || count > 2)
            {
                throw new ManifestException(fileName, retries.Line, "eventRetries", $"expected 0, 1 or 2 (how many times a failed Event invocation runs again, as Lambda's MaximumRetryAttempts), got '{text}'");
            }

            manifest = manifest with { EventRetries = count };
        }

        if (fields.TryGetValue("io", out var io))
        {
            var text = Scalar(io, fileName, "io");
            manifest = manifest with
            {
                Io = text switch
                {
                    "nexus" => IoMode.Nexus,
                    "baseline" => IoMode.Baseline,
                    _ => throw new ManifestException(fileName, io.Line, "io", $"expected 'nexus' or 'baseline', got '{text}'"),
                },
            };
        }

        if (fields.TryGetValue("sandbox", out var sandbox))
        {
            var text = Scalar(sandbox, fileName, "sandbox");
            manifest = manifest with
            {
                Sandbox = text is "oci" or "microvm"
                    ? text
                    : throw new ManifestException(fileName, sandbox.Line, "sandbox", $"expected 'oci' or 'microvm', got '{text}'"),
            };
        }

        if (fields.TryGetValue("writeback", out var writeback))
        {
            var text = Scalar(writeback, fileName, "writeback");
            manifest = manifest with
            {
                WriteBack = text switch
                {
                    "async" => WriteBackMode.Async,
                    "sync" => WriteBackMode.Sync,
                    _ => throw new ManifestException(fileName, writeback.Line, "writeback", $"expected 'async' or 'sync', got '{text}'"),
                },
            };
        }

        if (fields.TryGetValue("prefetch", out var prefetch))
        {
            var text = Scalar(prefetch, fileName, "prefetch");
            manifest = manifest with
            {
                Prefetch = text switch
                {
                    "true" => true,
                    "false" => false,
                    _ => throw new ManifestException(fileName, prefetch.Line, "prefetch", $"expected 'true' or 'false', got '{text}'"),
                },
            };
        }

        if (fields.TryGetValue("inputs", out var inputs))
        {
            manifest = manifest with { Inputs = ParseInputs(inputs.Node, fileName) };
        }

        if (fields.TryGetValue("storage", out var storage))
        {
            manifest = manifest with { Storage = ParseStorage(storage.Node, fileName) };
        }

        if (fields.TryGetValue("services", out var services))
        {
            manifest = manifest with { Services = ParseServices(services.Node, fileName) };
        }

        if (fields.TryGetValue("environment", out var environment))
        {
            manifest = manifest with { Environment = ParseEnvironment(environment.Node, fileName) };
        }

        if (fields.TryGetValue("description", out var description))
        {
            var text = Scalar(description, fileName, "description");
            if (text.Length > MaxDescriptionLength)
            {
                throw new ManifestException(fileName, description.Line, "description", $"expected at most {MaxDescriptionLength} characters (Lambda's limit), got {text.Length}");
            }

            manifest = manifest with { Description = text };
        }

        if (fields.TryGetValue("logging", out var logging))
        {
            manifest = manifest with { Logging = ParseLogging(logging.Node, fileName) };
        }

        return manifest;
    }

    internal static YamlMappingNode LoadRoot(string yaml, string fileName)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new ManifestException(fileName, (int)e.Start.Line, "(yaml)", "not valid YAML: " + InnermostMessage(e));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            // YamlDotNet's node loader throws these (not YamlException) on some malformed flow collections; found by
            // ManifestPropertyTests. The text is still just not valid YAML.
            throw new ManifestException(fileName, 0, "(yaml)", "not valid YAML: " + InnermostMessage(e));
        }

        if (stream.Documents.Count == 0)
        {
            throw new ManifestException(fileName, 0, "(manifest)", "is empty; expected at least 'name' and 'handler'");
        }

        if (stream.Documents.Count > 1)
        {
            throw new ManifestException(fileName, Line(stream.Documents[1].RootNode), "(manifest)", "holds more than one YAML document; expected one");
        }

        return stream.Documents[0].RootNode as YamlMappingNode
            ?? throw new ManifestException(fileName, Line(stream.Documents[0].RootNode), "(manifest)", "expected a mapping of fields (name: ..., handler: ...)");
    }

    private static string InnermostMessage(Exception e)
    {
        while (e.InnerException is not null)
        {
            e = e.InnerException;
        }

        return e.Message;
    }

    private static List<StorageGrant> ParseStorage(YamlNode node, string fileName)
    {
        if (node is YamlScalarNode { Value: null or "" })
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw new ManifestException(fileName, Line(node), "storage", "expected a list of grants (- bucket: ..., prefix: ..., access: read|write|readwrite)");
        }

        var grants = new List<StorageGrant>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var path = $"storage[{i}]";
            if (sequence.Children[i] is not YamlMappingNode map)
            {
                throw new ManifestException(fileName, Line(sequence.Children[i]), path, "expected a mapping with bucket, prefix and access");
            }

            var fields = new Dictionary<string, (YamlNode Node, int Line)>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                var key = ScalarKey(k, fileName, path);
                if (!KnownGrantFields.Contains(key))
                {
                    throw new ManifestException(fileName, Line(k), $"{path}.{key}", $"unknown field (known fields: {string.Join(", ", KnownGrantFields)})");
                }

                fields[key] = (v, Line(k));
            }

            var bucket = RequiredString(fields, "bucket", fileName, Line(map), path + ".");
            if (!BucketPattern().IsMatch(bucket) || bucket.Contains("..", StringComparison.Ordinal))
            {
                throw new ManifestException(fileName, fields["bucket"].Line, path + ".bucket", $"expected an S3 bucket name (3 to 63 characters of a-z, 0-9, '.' and '-'), got '{bucket}'");
            }

            var prefix = fields.TryGetValue("prefix", out var p) ? Scalar(p, fileName, path + ".prefix") : "";
            if (prefix.Length > 1024)
            {
                throw new ManifestException(fileName, p.Line, path + ".prefix", "expected a key prefix of at most 1024 characters");
            }

            var accessText = RequiredString(fields, "access", fileName, Line(map), path + ".");
            var access = accessText switch
            {
                "read" => StorageAccess.Read,
                "write" => StorageAccess.Write,
                "readwrite" => StorageAccess.ReadWrite,
                _ => throw new ManifestException(fileName, fields["access"].Line, path + ".access", $"expected 'read', 'write' or 'readwrite', got '{accessText}'"),
            };
            grants.Add(new StorageGrant(bucket, prefix, access));
        }

        return grants;
    }

    private static List<InputHint> ParseInputs(YamlNode node, string fileName)
    {
        if (node is YamlScalarNode { Value: null or "" })
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            throw new ManifestException(fileName, Line(node), "inputs", "expected a list of inputs (- bucket: <name or $.path>, key: <key or $.path>)");
        }

        if (sequence.Children.Count > MaxInputs)
        {
            throw new ManifestException(fileName, Line(node), "inputs", $"declares {sequence.Children.Count} inputs; at most {MaxInputs} are allowed");
        }

        var hints = new List<InputHint>();
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            var path = $"inputs[{i}]";
            if (sequence.Children[i] is not YamlMappingNode map)
            {
                throw new ManifestException(fileName, Line(sequence.Children[i]), path, "expected a mapping with bucket and key");
            }

            var fields = new Dictionary<string, (YamlNode Node, int Line)>(StringComparer.Ordinal);
            foreach (var (k, v) in map.Children)
            {
                var key = ScalarKey(k, fileName, path);
                if (!KnownInputFields.Contains(key))
                {
                    throw new ManifestException(fileName, Line(k), $"{path}.{key}", $"unknown field (known fields: {string.Join(", ", KnownInputFields)})");
                }

                fields[key] = (v, Line(k));
            }

            var bucket = ParseInputValue(fields, "bucket", fileName, Line(map), path);
            if (bucket.Literal is { } literal && (!BucketPattern().IsMatch(literal) || literal.Contains("..", StringComparison.Ordinal)))
            {
                throw new ManifestException(fileName, fields["bucket"].Line, path + ".bucket", $"expected an S3 bucket name or an event path starting with '$', got '{literal}'");
            }

            hints.Add(new InputHint(bucket, ParseInputValue(fields, "key", fileName, Line(map), path)));
        }

        return hints;
    }

    private static InputValue ParseInputValue(Dictionary<string, (YamlNode Node, int Line)> fields, string field, string fileName, int parentLine, string path)
    {
        var text = RequiredString(fields, field, fileName, parentLine, path + ".");
        try
        {
            return InputValue.Parse(text);
        }
        catch (FormatException e)
        {
            throw new ManifestException(fileName, fields[field].Line, $"{path}.{field}", e.Message);
        }
    }

    private static Dictionary<string, string> ParseEnvironment(YamlNode node, string fileName)
    {
        if (node is YamlScalarNode { Value: null or "" })
        {
            return [];
        }

        if (node is not YamlMappingNode map)
        {
            throw new ManifestException(fileName, Line(node), "environment", "expected a mapping of variable names to values");
        }

        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in map.Children)
        {
            var name = ScalarKey(k, fileName, "environment");
            var path = "environment." + name;
            if (!EnvNamePattern().IsMatch(name))
            {
                throw new ManifestException(fileName, Line(k), path, "expected a variable name of letters, digits and '_' not starting with a digit");
            }

            if (ReservedNames.Contains(name) || ReservedPrefixes.Any(r => name.StartsWith(r, StringComparison.Ordinal)))
            {
                throw new ManifestException(fileName, Line(k), path, $"is reserved: the node sets it (reserved: {string.Join(", ", ReservedNames)} and names starting with {string.Join(", ", ReservedPrefixes)})");
            }

            environment[name] = Scalar((v, Line(v)), fileName, path);
        }

        return environment;
    }

    private static string RequiredString(Dictionary<string, (YamlNode Node, int Line)> fields, string field, string fileName, int parentLine, string pathPrefix = "")
    {
        if (!fields.TryGetValue(field, out var value))
        {
            throw new ManifestException(fileName, parentLine, pathPrefix + field, "required field is missing");
        }

        var text = Scalar(value, fileName, pathPrefix + field);
        return text.Length == 0 ? throw new ManifestException(fileName, value.Line, pathPrefix + field, "must not be empty") : text;
    }

    private static string Scalar((YamlNode Node, int Line) value, string fileName, string field) =>
        value.Node is YamlScalarNode scalar
            ? scalar.Value ?? ""
            : throw new ManifestException(fileName, value.Line, field, "expected a single value, got a " + (value.Node is YamlSequenceNode ? "list" : "mapping"));

    private static string ScalarKey(YamlNode key, string fileName, string parent) =>
        key is YamlScalarNode { Value: { } text }
            ? text
            : throw new ManifestException(fileName, Line(key), parent, "field names must be plain text");

    private static int Line(YamlNode node) => (int)node.Start.Line;

    private static void CheckHandlerModule(string folder, string handler, int line)
    {
        var module = handler[..handler.LastIndexOf('.')];
        var relative = module.Replace('.', '/');
        var asFile = Path.Combine(folder, relative + ".py");
        var asPackage = Path.Combine(folder, relative, "__init__.py");
        if (!File.Exists(asFile) && !File.Exists(asPackage))
        {
            throw new ManifestException(FileName, line, "handler", $"module '{module}' not found: expected {relative}.py in the function folder");
        }
    }

    /// <summary>True for what a manifest's <c>name</c> may be (1-48 of a-z, 0-9 and '-'): a safe file name too.</summary>
    public static bool IsFunctionName(string name) => NamePattern().IsMatch(name);

    [GeneratedRegex("^[a-z0-9-]{1,48}$")]
    private static partial Regex NamePattern();

    // As Lambda's Python handlers: the module's path in dots or slashes (src/handler.handler), then '.' and the function.
    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*([./][A-Za-z_][A-Za-z0-9_]*)*\.[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex HandlerPattern();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")]
    private static partial Regex BucketPattern();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvNamePattern();
}
