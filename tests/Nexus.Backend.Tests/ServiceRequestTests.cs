// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Nexus.Backend.Services;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Testing;

namespace Nexus.Backend.Tests;

/// <summary>
/// The generic path's defences against a hostile sandbox, attacked directly: the request's shape, how its action and
/// resources are read (from the request, never from what the sandbox claims), and the signature (checked against
/// botocore's own SigV4 signer).
/// </summary>
public sealed class ServiceRequestTests
{
    private const string GetItemTarget = "DynamoDB_20120810.GetItem";

    [Theory]
    [InlineData("""{"Service":"Dynamo DB","Operation":"GetItem","Method":"POST","Path":"/"}""", "is not a service name")]
    [InlineData("""{"Service":"dynamodb","Operation":"getItem","Method":"POST","Path":"/"}""", "is not an operation name")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"CONNECT","Path":"/"}""", "is not one of GET, POST")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"x/"}""", "must start with '/'")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/a b"}""", "without spaces")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/a/../b"}""", "'.' or '..' segment")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/","Headers":{"X-Bad:Name":"v"}}""", "is not an HTTP token")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/","Headers":{"X-Split":"a\r\nHost: evil"}}""", "no CR, LF or NUL")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/","Headers":{"X-A":"1","x-a":"2"}}""", "is given twice")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/","Headers":{"X-A":1}}""", "must be a string")]
    [InlineData("""{"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/","Headers":["X-A"]}""", "must be an object")]
    public void MalformedRequestsAreRefused(string header, string why)
    {
        using var json = JsonDocument.Parse(header);
        var e = Assert.Throws<ChannelRequestException>(() => ServiceRequest.Parse(json.RootElement));
        Assert.Equal(400, e.Status);
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadersTheBackendSetsAreNeverForwarded()
    {
        var request = Parse("GetItem", ("Host", "evil.example"), ("Authorization", "AWS4-HMAC-SHA256 stolen"), ("X-Amz-Security-Token", "t"),
            ("Content-Length", "1"), ("Transfer-Encoding", "chunked"), ("X-Nexus-Last-Modified", "0"), ("X-Amz-Target", GetItemTarget));
        Assert.Equal(["X-Amz-Target"], request.Headers.Select(h => h.Key));
    }

    [Fact]
    public void TooManyHeadersAreRefused()
    {
        var headers = Enumerable.Range(0, ServiceRequest.MaxHeaders + 1).Select(i => ($"X-H{i}", "v")).ToArray();
        Assert.Contains("more than 64 headers", Assert.Throws<ChannelRequestException>(() => Parse("GetItem", headers)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheActionIsReadFromTheRequestNotFromTheClaim()
    {
        // The sandbox says GetItem (granted) but the target says DeleteItem.
        var request = Parse("GetItem", ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.DeleteItem"));
        var e = Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(request, """{"TableName":"t"}"""u8));
        Assert.Contains("performs \"DeleteItem\" but says it is GetItem", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AJsonTargetWithAFormBodyIsRefused()
    {
        // A service speaking both protocols would run the form's Action, not the checked target.
        var request = Parse("ListQueues", ("Content-Type", "application/x-www-form-urlencoded"), ("X-Amz-Target", "AmazonSQS.ListQueues"));
        var e = Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(request, "Action=DeleteQueue&QueueUrl=q"u8));
        Assert.Contains("must be application/x-amz-json-*", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Action=SendMessage&Action=DeleteQueue", "more than one Action")]
    [InlineData("QueueUrl=q", "names no Action")]
    [InlineData("Action=DeleteQueue", "performs \"DeleteQueue\" but says it is SendMessage")]
    public void QueryProtocolActionsComeFromTheForm(string form, string why)
    {
        var request = Parse("sqs", "SendMessage", ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"));
        var e = Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(request, Encoding.UTF8.GetBytes(form)));
        Assert.Contains(why, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void QueryProtocolActionIsDecoded()
    {
        var request = Parse("sts", "GetCallerIdentity", ("Content-Type", "application/x-www-form-urlencoded"));
        var target = ServiceTarget.Resolve(request, "Action=GetCaller%49dentity&Version=2011-06-15"u8);
        Assert.Equal("GetCallerIdentity", target.Action);
        Assert.Equal([ServiceTarget.Unnamed], target.Resources);
    }

    /// <summary>
    /// A REST-protocol call (no X-Amz-Target, no form Action) does not name what it does: whatever operation the
    /// sandbox claims, it is any action on any resource, so only a grant of everything on its service covers it.
    /// </summary>
    [Fact]
    public void RestProtocolCallsAreServedOnlyUnderAGrantOfEverything()
    {
        var request = ServiceRequest.Create("sesv2", "GetAccount", "DELETE", "/v2/email/identities/x", [new("Content-Type", "application/json")]);
        var target = ServiceTarget.Resolve(request, "{}"u8);
        Assert.Equal((ServiceTarget.AnyAction, ServiceTarget.Unnamed), (target.Action, Assert.Single(target.Resources)));

        var everything = new FunctionManifest { Name = "f", Handler = "h.h", Services = [new ServiceGrant("sesv2", ["*"], "*")] };
        ServiceCalls.CheckGrants(everything, request, "{}"u8);
        foreach (var narrower in new[] { new ServiceGrant("sesv2", ["GetAccount"], "*"), new ServiceGrant("sesv2", ["*"], "identity/*"), new ServiceGrant("ses", ["*"], "*") })
        {
            var manifest = everything with { Services = [narrower] };
            var e = Assert.Throws<ChannelRequestException>(() => ServiceCalls.CheckGrants(manifest, request, "{}"u8));
            Assert.Equal(403, e.Status);
            Assert.Contains("only a grant of actions [\"*\"] on resource \"*\" of sesv2 covers it", e.Message, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("""{"TableName":"orders","Key":{}}""", "table/orders")]
    [InlineData("""{"TableName":"orders","TableName":"secret"}""", "table/orders,table/secret")]
    [InlineData("""{"Table\u004eame":"secret"}""", "table/secret")]
    [InlineData("""{"RequestItems":{"orders":[],"secret":[]}}""", "table/orders,table/secret")]
    [InlineData("""{"TransactItems":[{"Put":{"TableName":"orders"}},{"ConditionCheck":{"TableName":"secret"}}]}""", "table/orders,table/secret")]
    [InlineData("""{"Limit":10}""", "*")]
    [InlineData("""{"TableName":"orders","IndexName":"by-date","KeyConditionExpression":"x"}""", "table/orders/index/by-date")]
    public void EveryTableADynamoDbRequestNamesIsChecked(string body, string resources)
    {
        var request = Parse("GetItem", ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", GetItemTarget));
        Assert.Equal(resources, string.Join(',', ServiceTarget.Resolve(request, Encoding.UTF8.GetBytes(body)).Resources));
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""["TableName","secret"]""")]
    [InlineData("""{"TableName":7}""")]
    [InlineData("""{"TableName":"orders/index/by-date"}""")]
    [InlineData("""{"RequestItems":{"orders/index/x":[]}}""")]
    [InlineData("""{"IndexName":"by-date"}""")]
    [InlineData("""{"TableName":"orders","IndexName":"by/x"}""")]
    [InlineData("""{"TableName":"orders","TableName":"other","IndexName":"by-date"}""")]
    public void UnreadableDynamoDbBodiesAreRefused(string body)
    {
        var request = Parse("GetItem", ("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", GetItemTarget));
        Assert.Equal(400, Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(request, Encoding.UTF8.GetBytes(body))).Status);
    }

    [Theory]
    [InlineData("table/orders", "Query", "table/orders/index/by-date", true)]
    [InlineData("table/orders/index/*", "Query", "table/orders/index/by-date", true)]
    [InlineData("table/orders/index/*", "Query", "table/orders", false)]
    [InlineData("table/orders/index/by-date", "Query", "table/orders/index/other", false)]
    [InlineData("table/orders", "Scan", "table/orders/index/by-date", false)]
    [InlineData("table/other", "Query", "table/orders/index/by-date", false)]
    public void IndexGrantsCoverTheirIndexesAndTableGrantsCoverEveryIndex(string granted, string action, string resource, bool allowed)
    {
        var manifest = new Functions.FunctionManifest { Name = "f", Handler = "h.main", Services = [new Functions.ServiceGrant("dynamodb", ["Query"], granted)] };
        Assert.Equal(allowed, ServiceTarget.Allowed(manifest, "dynamodb", action, resource));
    }

    [DebianBotocoreFact]
    public void TheSignatureIsBotocoresSigV4()
    {
        var body = """{"TableName":"orders","Key":{"pk":{"S":"a b"}}}"""u8.ToArray();
        using var json = JsonDocument.Parse("""
            {"Service":"dynamodb","Operation":"GetItem","Method":"POST","Path":"/a%20b/c?b=2&a=x%2Fy&a=w",
             "Headers":{"Content-Type":"application/x-amz-json-1.0","X-Amz-Target":"DynamoDB_20120810.GetItem","X-Custom":"  two   spaces "}}
            """);
        var ours = Authorization(ServiceRequest.Parse(json.RootElement), body, "dynamodb");
        var theirs = BotocoreAuthorization(
            "dynamodb",
            "'POST', url='http://127.0.0.1:8000/a%20b/c?b=2&a=x%2Fy&a=w', data=body, headers={'Content-Type': 'application/x-amz-json-1.0', 'X-Amz-Target': 'DynamoDB_20120810.GetItem', 'X-Custom': '  two   spaces '}",
            body);
        Assert.StartsWith("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261203/eu-west-1/dynamodb/aws4_request", theirs, StringComparison.Ordinal);
        Assert.Equal(theirs, ours);
    }

    /// <summary>
    /// Glacier takes the payload's hash as x-amz-content-sha256 (botocore's add_glacier_checksums puts it on an upload
    /// before signing): the backend signs and sends the body's own (whatever the sandbox sent is dropped). Without it
    /// Glacier refuses the upload.
    /// </summary>
    [DebianBotocoreFact]
    public void AGlacierUploadCarriesItsPayloadHashSignedAsBotocoreSignsIt()
    {
        var body = "archive bytes"u8.ToArray();
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(body));
        var request = ServiceRequest.Create("glacier", "UploadArchive", "POST", "/-/vaults/logs/archives", [
            new("x-amz-glacier-version", "2012-06-01"), new("x-amz-sha256-tree-hash", hash), new("x-amz-content-sha256", "forged")]);
        using var message = Sign(request, body, "glacier");
        Assert.Equal([hash], message.Headers.GetValues("x-amz-content-sha256"));
        var theirs = BotocoreAuthorization(
            "glacier",
            $"'POST', url='http://127.0.0.1:8000/-/vaults/logs/archives', data=body, headers={{'x-amz-glacier-version': '2012-06-01', 'x-amz-sha256-tree-hash': '{hash}', 'x-amz-content-sha256': '{hash}'}}",
            body);
        Assert.Contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date;x-amz-glacier-version;x-amz-sha256-tree-hash,", theirs, StringComparison.Ordinal);
        Assert.Equal(theirs, string.Join(',', message.Headers.GetValues("Authorization")));
    }

    private static readonly DateTime s_signedAt = new(2026, 12, 3, 10, 11, 12, DateTimeKind.Utc);

    private static HttpRequestMessage Sign(ServiceRequest request, byte[] body, string service) =>
        ServiceSigner.Sign(request, body, new ServiceEndpoint { Url = "http://127.0.0.1:8000" }, service, "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "eu-west-1", s_signedAt);

    private static string Authorization(ServiceRequest request, byte[] body, string service)
    {
        using var message = Sign(request, body, service);
        return string.Join(',', message.Headers.GetValues("Authorization"));
    }

    /// <summary>The Authorization header Debian's botocore writes (SigV4Auth, at <see cref="s_signedAt"/>) for an AWSRequest(<paramref name="requestArguments"/>) with <paramref name="body"/>.</summary>
    private static string BotocoreAuthorization(string service, string requestArguments, byte[] body)
    {
        var script = $$"""
            import datetime, sys, types
            import botocore.auth
            from botocore.awsrequest import AWSRequest
            from botocore.credentials import Credentials
            class At(datetime.datetime):
                @classmethod
                def utcnow(cls):
                    return datetime.datetime(2026, 12, 3, 10, 11, 12)
            botocore.auth.datetime = types.SimpleNamespace(datetime=At)
            body = sys.stdin.buffer.read()
            request = AWSRequest({{requestArguments}})
            botocore.auth.SigV4Auth(Credentials('AKIDEXAMPLE', 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY'), '{{service}}', 'eu-west-1').add_auth(request)
            print(request.headers['Authorization'])
            """;
        var start = new ProcessStartInfo(HostRequirements.DebianPython) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var python = Process.Start(start)!;
        python.StandardInput.BaseStream.Write(body);
        python.StandardInput.Close();
        var theirs = python.StandardOutput.ReadToEnd().Trim();
        python.WaitForExit();
        Assert.True(python.ExitCode == 0, python.StandardError.ReadToEnd());
        return theirs;
    }

    private static ServiceRequest Parse(string operation, params (string Name, string Value)[] headers) => Parse("dynamodb", operation, headers);

    private static ServiceRequest Parse(string service, string operation, params (string Name, string Value)[] headers)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["Service"] = service,
            ["Operation"] = operation,
            ["Method"] = "POST",
            ["Path"] = "/",
            ["Headers"] = headers.ToDictionary(h => h.Name, h => h.Value),
        });
        using var document = JsonDocument.Parse(json);
        return ServiceRequest.Parse(document.RootElement);
    }
}

/// <summary>A test that runs Debian's botocore; skipped, saying what to install, without it.</summary>
public sealed class DebianBotocoreFactAttribute : FactAttribute
{
    public DebianBotocoreFactAttribute()
    {
        Skip = HostRequirements.Missing(debianBoto3: true);
    }
}
