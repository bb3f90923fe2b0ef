// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Security;
using System.Text;
using System.Text.Json.Nodes;
using Nexus.Backend;
using Nexus.Backend.Services;
using Nexus.Functions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// A suite of the stand-in's own clients (difftest_common.print_suite) run twice against the same services: real boto3
/// through the node's signing proxy with the function's key (baseline), and the stand-in over a real channel and backend
/// (nexus). Both records are checked to come from the SDK each mode should run, the real SDK's HTTP stack loaded in
/// baseline and none of it in nexus mode.
/// </summary>
internal static class ProxyDifferential
{
    /// <summary>A backend that sends each named service's calls to its URL (no S3 call is made).</summary>
    public static NexusBackendOptions BackendOptions(params (string Service, string Url)[] services) => new()
    {
        ServiceUrl = "http://127.0.0.1:9",
        AccessKey = "NEXUSNODEKEY00000001",
        SecretKey = "node-secret-of-the-stand-in-differentials",
        Services = services.ToDictionary(s => s.Service, s => new ServiceEndpoint { Url = s.Url }),
    };

    /// <summary>A scripted JSON-protocol service's answer (application/x-amz-json-1.1).</summary>
    public static async Task AnswerJsonAsync(HttpListenerResponse response, int status, JsonNode body)
    {
        response.StatusCode = status;
        response.ContentType = "application/x-amz-json-1.1";
        var bytes = Encoding.UTF8.GetBytes(body.ToJsonString());
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }

    /// <summary>A scripted query-protocol service's answer (text/xml).</summary>
    public static async Task AnswerXmlAsync(HttpListenerResponse response, int status, string xml)
    {
        response.StatusCode = status;
        response.ContentType = "text/xml";
        var bytes = Encoding.UTF8.GetBytes(xml);
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }

    /// <summary>A query-protocol action's answer with its result element around <paramref name="inner"/>.</summary>
    public static string QueryResult(string action, string ns, string inner) =>
        QueryResponse(action, ns, $"<{action}Result>{inner}</{action}Result>");

    /// <summary>A query-protocol action's answer: <paramref name="inner"/> and its request id.</summary>
    public static string QueryResponse(string action, string ns, string inner) =>
        $"<?xml version=\"1.0\"?><{action}Response xmlns=\"{ns}\">{inner}<ResponseMetadata><RequestId>{action}-request</RequestId></ResponseMetadata></{action}Response>";

    /// <summary>A query-protocol error answer, as SQS, SNS, STS and the others word one.</summary>
    public static string QueryError(string ns, string code, string message) =>
        $"<?xml version=\"1.0\"?><ErrorResponse xmlns=\"{ns}\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{SecurityElement.Escape(message)}</Message><Detail/></Error><RequestId>error-request</RequestId></ErrorResponse>";

    /// <summary>Runs <paramref name="script"/> in both modes under <paramref name="manifest"/>'s grants.</summary>
    /// <param name="script">The suite.</param>
    /// <param name="manifest">The function whose grants both modes check.</param>
    /// <param name="options">The backend, and the services it sends to.</param>
    /// <param name="environment">The script's variables in both modes.</param>
    /// <param name="endpointVariable">The variable that names the service's endpoint to the script: the proxy in
    /// baseline; in nexus mode <paramref name="nexusEndpoint"/>, which the node routes (null: unset).</param>
    /// <param name="nexusEndpoint">The endpoint the script names in nexus mode, or null.</param>
    public static async Task<(JsonObject Baseline, JsonObject Nexus)> RunAsync(
        string script, FunctionManifest manifest, NexusBackendOptions options, Dictionary<string, string> environment, string endpointVariable, string? nexusEndpoint)
    {
        var work = Directory.CreateTempSubdirectory("nexus-proxydiff-");
        try
        {
            string baselineOut;
            await using (var proxy = await SigningProxy.StartAsync(options, manifest))
            {
                var env = new Dictionary<string, string>(environment)
                {
                    [endpointVariable] = proxy.Endpoint,
                    ["AWS_ACCESS_KEY_ID"] = SigningProxy.FunctionKey,
                    ["AWS_SECRET_ACCESS_KEY"] = SigningProxy.FunctionSecret,
                    ["NEXUS_IO"] = "baseline",
                };
                var (code, stdout, stderr) = await PythonProcess.RunAsync([script, "run"], env, work.FullName);
                baselineOut = code == 0 ? stdout : throw new InvalidOperationException($"{Path.GetFileName(script)} (baseline) failed (exit {code}):\n{stdout}\n{stderr}");
            }

            var nexusEnv = new Dictionary<string, string>(environment);
            if (nexusEndpoint is not null)
            {
                nexusEnv[endpointVariable] = nexusEndpoint;
            }

            var (nexusCode, nexusOut, nexusErr) = await ChannelRun.RunAsync(options, manifest, [script, "run"], nexusEnv, work.FullName);
            Assert.True(nexusCode == 0, $"{Path.GetFileName(script)} (nexus) failed (exit {nexusCode}):\n{nexusOut}\n{nexusErr}");
            var baseline = JsonNode.Parse(baselineOut)!.AsObject();
            var nexus = JsonNode.Parse(nexusOut)!.AsObject();
            Assert.StartsWith("/usr/lib/python3/dist-packages/", (string?)baseline["botocore_file"], StringComparison.Ordinal);
            Assert.StartsWith(PythonProcess.FrontendDir, (string?)nexus["botocore_file"], StringComparison.Ordinal);
            Assert.Contains("urllib3", baseline["modules"]!.AsArray().Select(m => (string?)m));
            Assert.True(nexus["modules"]!.AsArray().Count == 0, $"nexus mode loaded {nexus["modules"]!.ToJsonString()}:\n{nexusErr}");
            return (baseline, nexus);
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }
}
