// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Tests;

/// <summary>
/// Bad node.json files get an error naming the file, the field and (for JSON errors) the file's own line, never a
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
    [InlineData("""{"services": null}""", "services")]
    [InlineData("""{"maxInstancesPerNode": 5, "maxInstancesPerNode": 6}""", "maxInstancesPerNode")]
    [InlineData("""{"eventRetryDelays": "garbage"}""", "eventRetryDelays: unknown field")]
    [InlineData("""{"functionsDirectory": 7}""", "functionsDirectory: unknown field")]
    [InlineData("""{"home": "/nowhere"}""", "home: not a node.json setting")]
    [InlineData("""[1, 2]""", "expected a JSON object")]
    public void A_bad_file_is_refused_naming_the_file_and_the_field(string json, string expected)
    {
        var e = Assert.IsType<InvalidDataException>(Load(json));
        Assert.StartsWith(ConfigPath + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_type_error_names_the_files_own_line()
    {
        var e = Assert.IsType<InvalidDataException>(Load("{\n  \"keepAliveSeconds\": 60,\n  \"eventWorkers\": \"4\"\n}"));
        Assert.Contains("$.eventWorkers", e.Message, StringComparison.Ordinal);
        Assert.Contains("LineNumber: 2 ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_null_endpoint_and_an_out_of_range_value_name_the_field_as_the_file_spells_it()
    {
        Assert.Equal("node setting services.dynamodb: expected an endpoint object ({\"url\": ...}), got null", Assert.IsType<ArgumentException>(Load("""{"services": {"dynamodb": null}}""")).Message);
        Assert.Equal("node setting maxInstancesPerNode: must be at least 1", Assert.IsType<ArgumentException>(Load("""{"maxInstancesPerNode": 0}""")).Message);
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
