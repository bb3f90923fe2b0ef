// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using CsCheck;

namespace Nexus.Functions.Tests;

/// <summary>
/// Properties of the manifest parser on generated input (CsCheck): whatever the text, the parser returns a manifest
/// or throws <see cref="ManifestException"/>, never anything else; a manifest written as YAML parses back equal.
/// </summary>
public sealed class ManifestPropertyTests
{
    private const string Valid = """
        name: hello-s3
        handler: handler.handler
        memory: 256
        cpus: 0.5
        timeout: 12
        io: baseline
        writeback: sync
        prefetch: false
        storage:
          - bucket: nexus-examples
            prefix: hello-s3/
            access: read
        inputs:
          - bucket: $.bucket
            key: $.key
        environment: {INPUT_KEY: hello-s3/input.txt, COUNT: 3}
        """;

    private static readonly string[] s_tokens =
    [
        "name", "handler", "memory", "cpus", "timeout", "io", "sandbox", "storage", "environment", "writeback", "prefetch", "inputs", "bucket", "prefix", "access", "key", "read", "write", "readwrite", "$.a", "nexus",
        "baseline", "oci", "microvm", "async", "sync", "true", "false", "0", "64", "10240", "900", "0.1", "-1", "1e9", "NaN", "AWS_X", "PATH",
        ":", ": ", "- ", "\n", "\n  ", "\n    ", "{", "}", "[", "]", ",", "'", "\"", "#", "&a", "*a", "!!str", "---", "...", "|", ">", "?", " ",
    ];

    /// <summary>Text built from manifest words and YAML punctuation: it reaches the field checks, not only the YAML parser.</summary>
    private static readonly Gen<string> s_yamlish = Gen.OneOf(s_tokens).Array[0, 60].Select(parts => string.Concat(parts));

    private static void ParsesOrRefuses(string yaml)
    {
        try
        {
            ManifestParser.Parse(yaml);
        }
        catch (ManifestException)
        {
            // The documented refusal.
        }
    }

    [Fact]
    public void ArbitraryTextIsParsedOrRefusedWithManifestException() =>
        Gen.String[0, 400].Sample(ParsesOrRefuses, iter: 5000);

    [Fact]
    public void ManifestShapedTextIsParsedOrRefusedWithManifestException() =>
        s_yamlish.Sample(ParsesOrRefuses, iter: 20000);

    [Fact]
    public void EditedValidManifestIsParsedOrRefusedWithManifestException() =>
        Gen.Select(Gen.Int[0, Valid.Length - 1], Gen.OneOf(s_tokens), Gen.Int[0, 3])
            .Array[1, 6]
            .Sample(edits =>
            {
                var text = new StringBuilder(Valid);
                foreach (var (at, token, cut) in edits)
                {
                    var start = Math.Min(at, text.Length);
                    text.Remove(start, Math.Min(cut, text.Length - start)).Insert(start, token);
                }

                ParsesOrRefuses(text.ToString());
            }, iter: 20000);

    private static readonly Gen<string> s_name = Gen.Char["abcdefghijklmnopqrstuvwxyz0123456789-"].Array[1, 48].Select(c => new string(c));
    private static readonly Gen<string> s_identifier = Gen.Select(Gen.Char["abcxyz_"], Gen.Char["abcxyz_019"].Array[0, 10], (h, t) => h + new string(t));
    private static readonly Gen<string> s_envName = Gen.Select(Gen.Char["ABCXYZ_"], Gen.Char["ABCXYZ_019"].Array[0, 10], (h, t) => "V" + h + new string(t));

    /// <summary>Any printable text without control characters: what a user may put in an environment value.</summary>
    private static readonly Gen<string> s_value = Gen.Char[' ', '~'].Array[0, 30].Select(c => new string(c));

    [Fact]
    public void WrittenManifestParsesBackEqual() =>
        Gen.Select(
                s_name,
                Gen.Select(s_identifier, s_identifier, (m, f) => m + "." + f),
                Gen.Int[ManifestParser.MinMemoryMb, ManifestParser.MaxMemoryMb],
                Gen.Int[1, 640],
                Gen.Int[1, ManifestParser.MaxTimeoutSeconds],
                Gen.Bool,
                Gen.Dictionary(s_envName, s_value)[0, 5])
            .Sample((name, handler, memory, deciCpus, timeout, baseline, environment) =>
            {
                var yaml = new StringBuilder()
                    .Append("name: \"").Append(name).Append("\"\n")
                    .Append("handler: ").Append(handler).Append('\n')
                    .Append(CultureInfo.InvariantCulture, $"memory: {memory}\ncpus: {deciCpus / 10.0}\ntimeout: {timeout}\n")
                    .Append("io: ").Append(baseline ? "baseline" : "nexus").Append('\n')
                    .Append("environment:\n");
                foreach (var (key, value) in environment)
                {
                    // A double-quoted YAML scalar: only backslash and quote need escaping in printable ASCII.
                    yaml.Append("  ").Append(key).Append(": \"").Append(value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append("\"\n");
                }

                var m = ManifestParser.Parse(yaml.ToString());
                Assert.Equal(name, m.Name);
                Assert.Equal(handler, m.Handler);
                Assert.Equal(memory, m.MemoryMb);
                Assert.Equal(deciCpus / 10.0, m.Cpus);
                Assert.Equal(TimeSpan.FromSeconds(timeout), m.Timeout);
                Assert.Equal(baseline ? IoMode.Baseline : IoMode.Nexus, m.Io);
                Assert.Equal(environment.OrderBy(p => p.Key, StringComparer.Ordinal), m.Environment.OrderBy(p => p.Key, StringComparer.Ordinal));
            }, iter: 2000);
}
