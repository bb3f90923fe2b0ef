// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Tests;

/// <summary>node.json's <c>services</c>: the endpoints of the generic path (no node is started).</summary>
public sealed class NodeServicesConfigTests : IDisposable
{
    private readonly DirectoryInfo _home = Directory.CreateTempSubdirectory("nexus-node-services-");

    public void Dispose() => _home.Delete(recursive: true);

    [Fact]
    public void ServicesMapNamesToEndpoints()
    {
        File.WriteAllText(Path.Combine(_home.FullName, "node.json"), """
            {"services": {"dynamodb": {"url": "http://127.0.0.1:8000"},
                          "secrets-manager": {"url": "https://vault.internal", "region": "eu-west-1", "signingName": "secretsmanager", "accessKey": "AK", "secretKey": "SK"}}}
            """);
        var options = NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = _home.FullName });
        Assert.Equal("http://127.0.0.1:8000", options.Services["dynamodb"].Url);
        Assert.Null(options.Services["dynamodb"].AccessKey);
        Assert.Equal(("eu-west-1", "secretsmanager", "AK"), (options.Services["secrets-manager"].Region, options.Services["secrets-manager"].SigningName, options.Services["secrets-manager"].AccessKey));
    }

    [Fact]
    public async Task BaselineInstancesAreToldTheSigningProxyForEachService()
    {
        const string Proxy = "http://10.77.0.1:9702";
        var factory = new Transports.RuntimeApi.RuntimeApiTransportFactory(
            new Transports.RuntimeApi.RuntimeApiRegistry(), "10.77.0.1:9701", "http://10.77.0.1:9780", _ => ("AK", "SK"),
            new Dictionary<string, string> { ["dynamodb"] = Proxy, ["secrets-manager"] = Proxy });
        var manifest = new Functions.FunctionManifest { Name = "f", Handler = "h.main", Io = Functions.IoMode.Baseline };
        var transport = await factory.CreateAsync(new DeployedFunction(manifest, "/code", "1", "sha", 0, DateTimeOffset.UnixEpoch), "i-1", CancellationToken.None);
        Assert.Equal(Proxy, transport.Environment["NEXUS_DYNAMODB_ENDPOINT"]);
        Assert.Equal(Proxy, transport.Environment["NEXUS_SECRETS_MANAGER_ENDPOINT"]);
        Assert.Equal("AK", transport.Environment["AWS_ACCESS_KEY_ID"]);
        Assert.Equal("f", Assert.IsType<Transports.RuntimeApi.RuntimeApiTransport>(transport).Function);
    }

    [Fact]
    public void TwoServicesWithOneSigningNameAreRefused()
    {
        File.WriteAllText(Path.Combine(_home.FullName, "node.json"), """
            {"services": {"secrets-manager": {"url": "http://127.0.0.1:8001"}, "secretsmanager": {"url": "http://127.0.0.1:8002"}}}
            """);
        var e = Assert.Throws<InvalidDataException>(() => NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = _home.FullName }));
        Assert.Contains("same signing name 'secretsmanager'", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ftp://host")]
    [InlineData("http://host/path")]
    [InlineData("not a url")]
    public void AnEndpointMustBeABaseHttpUrl(string url)
    {
        File.WriteAllText(Path.Combine(_home.FullName, "node.json"), "{\"services\": {\"dynamodb\": {\"url\": \"" + url + "\"}}}");
        var e = Assert.Throws<InvalidDataException>(() => NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = _home.FullName }));
        Assert.Contains("services.dynamodb", e.Message, StringComparison.Ordinal);
    }
}
