// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Tests;

/// <summary>
/// Bad node.json files get an error reading FILE:LINE: field: problem (the line counted from 1), never a
/// crash. Each case was found by an operator's review: a null crashed the CLI with a stack trace, a duplicate key gave
/// .NET's bare "An item with the same key", a type error named line 32 of a one-line file (the defaults re-serialized),
/// and derived fields (eventRetryDelays, functionsDirectory) and home were taken without a word.
/// </summary>
public sealed class NodeConfigFileTests : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("nexus-node-config-");

    public void Dispose() => _home.Delete(recursive: true);

    private string ConfigPath => Path.Combine(_home.FullName, "node.json");

    private Exception Load(string json)
    {
        File.WriteAllText(ConfigPath, json);
        return Record.Exception(() => NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = _home.FullName }))
            ?? throw new Xunit.Sdk.XunitException("the file was taken");
    }

    [Theory]
    [InlineData("""{"services": null}""", ":1: services: expected an object, got null")]
    [InlineData("{\"maxInstancesPerNode\": 5,\n \"maxInstancesPerNode\": 6}", ":2: maxInstancesPerNode: set twice (first on line 1)")]
    [InlineData("""{"eventRetryDelays": "garbage"}""", ":1: eventRetryDelays: unknown field (docs/node.md lists the settings)")]
    [InlineData("""{"functionsDirectory": 7}""", ":1: functionsDirectory: unknown field")]
    [InlineData("""{"home": "/nowhere"}""", ":1: home: not a node.json setting")]
    [InlineData("""[1, 2]""", ":1: expected a JSON object of settings")]
    [InlineData("{\"keepAliveSeconds\": 600,\n}", ":2: not valid JSON: The JSON object contains a trailing comma")]
    public void A_bad_file_is_refused_naming_the_file_line_and_field(string json, string expected)
    {
        var e = Assert.IsType<InvalidDataException>(Load(json));
        Assert.StartsWith(ConfigPath + expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", e.Message, StringComparison.Ordinal);
    }

    // Found by an operator's review: a type error read "The JSON value could not be converted to Nexus.Node.NodeOptions.
    // Path: $.eventWorkers | LineNumber: 2", the line counted from 0 (the field is on the file's third line), an unknown
    // field "could not be mapped to any .NET member contained in type 'Nexus.Node.NodeOptions'" with no line, and a value
    // out of range "node setting keepAliveSeconds: must be at least 1", naming neither the file nor the line.
    [Theory]
    [InlineData("{\n  \"keepAliveSeconds\": 60,\n  \"eventWorkers\": \"4\"\n}", ":3: eventWorkers: expected a whole number, got \"4\"")]
    [InlineData("{\"templates\": \"no\"}", ":1: templates: expected true or false, got \"no\"")]
    [InlineData("{\"maxFunctionCpus\": [2]}", ":1: maxFunctionCpus: expected a number, got [2]")]
    [InlineData("{\"services\": {\"dynamodb\": {\"url\": 8000}}}", ":1: services.dynamodb.url: expected a string, got 8000")]
    [InlineData("{\"driver\": \"oci\",\n\"keepAliveSecs\": 5}", ":2: keepAliveSecs: unknown field (did you mean keepAliveSeconds? docs/node.md lists the settings)")]
    [InlineData("{\"MaxInstancesPerNode\": 5}", ":1: MaxInstancesPerNode: unknown field (did you mean maxInstancesPerNode?")]
    [InlineData("{\"driver\": \"oci\",\n\n  \"keepAliveSeconds\": -5}", ":3: keepAliveSeconds: must be at least 1")]
    [InlineData("{\"services\": {\"dynamodb\": null}}", ":1: services.dynamodb: expected an endpoint object ({\"url\": ...}), got null")]
    [InlineData("{\"eventWorkers\": 100000}", ":1: eventWorkers: must be 1 to 1024")]
    [InlineData("{\"ociRuntime\": \"\"}", ":1: ociRuntime: expected a program name or path")]
    [InlineData("{\"imageCache\": \" \"}", ":1: imageCache: expected a directory")]
    public void An_error_reads_file_line_field_problem(string json, string expected)
    {
        var e = Assert.IsType<InvalidDataException>(Load(json));
        Assert.StartsWith(ConfigPath + expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Nexus.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_value_out_of_range_from_the_environment_names_the_setting()
    {
        var e = Record.Exception(() => NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = _home.FullName, ["NEXUS_MAX_INSTANCES"] = "0" }));
        Assert.Equal("node setting maxInstancesPerNode: must be at least 1", Assert.IsType<NodeSettingException>(e).Message);
    }

    [Fact]
    public void A_field_the_file_leaves_out_keeps_its_default()
    {
        File.WriteAllText(ConfigPath, """{"keepAliveSeconds": 42}""");
        var options = NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = _home.FullName });
        Assert.Equal(42, options.KeepAliveSeconds);
        Assert.Equal(new NodeOptions().MaxInstancesPerNode, options.MaxInstancesPerNode);
        Assert.Equal(_home.FullName, options.Home);
    }
}
