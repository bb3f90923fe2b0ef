// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Nexus.Functions;
using Nexus.Node.Transports;

namespace Nexus.Node.Api;

/// <summary>
/// The Lambda API's reads of functions, answered as Lambda answers them for a function that has only <c>$LATEST</c>
/// (nothing here publishes versions, aliases, policies, tags or reserved concurrency), and a clear error for the rest of
/// the Lambda API (the management calls: NodeApi.Management.cs).
/// </summary>
public static partial class NodeApi
{
    /// <summary>ListFunctions and ListVersionsByFunction answer at most this many items a page, as Lambda does.</summary>
    internal const int MaxListPage = 50;

    private const string TagsPrefix = "/2017-03-31/tags";
    private const string ConcurrencyPrefix = "/2019-09-30/functions";
    private const string EventInvokeConfigPrefix = "/2019-09-25/functions";
    private const string CodeSigningPrefix = "/2020-06-30/functions";
    private const string RuntimeManagementPrefix = "/2021-07-20/functions";
    private const string UrlPrefix = "/2021-10-31/functions";
    private const string RecursionPrefix = "/2024-08-31/functions";

    private static void MapFunctionReads(WebApplication app, INodeOperations node)
    {
        app.MapGet(LambdaPrefix, context => ListFunctionsAsync(context, node));
        app.MapGet(LambdaPrefix + "/{name}", context => GetFunctionAsync(context, node, configurationOnly: false));
        app.MapGet(LambdaPrefix + "/{name}/configuration", context => GetFunctionAsync(context, node, configurationOnly: true));
        app.MapGet(LambdaPrefix + "/{name}/versions", context => ListVersionsAsync(context, node));
        app.MapGet(LambdaPrefix + "/{name}/aliases", context => WithFunctionAsync(context, node, _ => new JsonObject { ["Aliases"] = new JsonArray() }));
        app.MapGet(LambdaPrefix + "/{name}/policy", context => WithFunctionAsync(context, node, _ => null));
        app.MapGet(ConcurrencyPrefix + "/{name}/concurrency", context => WithFunctionAsync(context, node, _ => new JsonObject()));
        app.MapGet(TagsPrefix + "/{arn}", context => WithFunctionAsync(context, node, _ => new JsonObject { ["Tags"] = new JsonObject() }, "arn"));

        // What deployment tools read after GetFunction (Terraform's aws_lambda_function data source reads the code
        // signing config and failed on the 501 these got before), answered as Lambda answers for a function with none
        // of them set; the event invoke config is the manifest's eventRetries.
        app.MapGet(CodeSigningPrefix + "/{name}/code-signing-config", context => WithFunctionAsync(context, node, function => new JsonObject { ["CodeSigningConfigArn"] = "", ["FunctionName"] = function.Manifest.Name }));
        app.MapGet(EventInvokeConfigPrefix + "/{name}/event-invoke-config", context => WithFunctionAsync(context, node, EventInvokeConfig));
        app.MapGet(UrlPrefix + "/{name}/url", context => WithFunctionAsync(context, node, _ => null));
        app.MapGet(UrlPrefix + "/{name}/urls", context => WithFunctionAsync(context, node, _ => new JsonObject { ["FunctionUrlConfigs"] = new JsonArray() }));
        app.MapGet(ConcurrencyPrefix + "/{name}/provisioned-concurrency", context => context.Request.Query["List"] == "ALL"
            ? WithFunctionAsync(context, node, _ => new JsonObject { ["ProvisionedConcurrencyConfigs"] = new JsonArray() })
            : WithFunctionAsync(context, node, _ => null, notFound: ("ProvisionedConcurrencyConfigNotFoundException", "No Provisioned Concurrency Config found for this function")));
        app.MapGet(RuntimeManagementPrefix + "/{name}/runtime-management-config", context => WithFunctionAsync(context, node, function => new JsonObject { ["UpdateRuntimeOn"] = "Auto", ["FunctionArn"] = function.Arn }));

        // The node stops a recursive loop as Lambda's default does (InvocationLineage).
        app.MapGet(RecursionPrefix + "/{name}/recursion-config", context => WithFunctionAsync(context, node, _ => new JsonObject { ["RecursiveLoop"] = "Terminate" }));
        app.MapGet(CodeLinks.Prefix + "/{name}/{revision}", context => DownloadCodeAsync(context, node));
        app.MapGet("/2015-03-31/event-source-mappings", context => EmptyListAsync(context, node, "EventSourceMappings"));
        app.MapGet("/2018-10-31/layers", context => EmptyListAsync(context, node, "Layers"));
    }

    /// <summary>
    /// A GetFunction Code.Location: the function's code as a zip, for anyone holding an unexpired URL the node made (as
    /// a presigned URL, it is its own authority: no signature of the request, no token). 403 for one altered, made
    /// elsewhere or expired; 404 once the function no longer runs that revision.
    /// </summary>
    private static async Task DownloadCodeAsync(HttpContext context, INodeOperations node)
    {
        var name = (string)context.Request.RouteValues["name"]!;
        var revision = (string)context.Request.RouteValues["revision"]!;
        var query = context.Request.Query;
        if (node.CodeLinks.Refusal(name, revision, query["Expires"].ToString(), query["Signature"].ToString()) is { } refusal)
        {
            await ApiErrorAsync(context, 403, "AccessDeniedException", refusal);
            return;
        }

        if (!node.TryGetFunction(name, out var function) || function.Revision != revision)
        {
            await ApiErrorAsync(context, 404, "ResourceNotFoundException", $"function {name} no longer runs revision {revision} (redeployed or removed); call GetFunction for the Code.Location of what it runs now");
            return;
        }

        // Made whole first (in a file only root can read, gone when closed) so the answer has its length, as S3's has,
        // and a folder that cannot be read is an error, not a cut-off zip.
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("the Nexus node runs on Linux only");
        }

        await using var zip = new FileStream(Path.Combine(Path.GetTempPath(), "nexus-code-" + Guid.NewGuid().ToString("N") + ".zip"), new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.ReadWrite,
            Options = FileOptions.DeleteOnClose,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });
        try
        {
            await Task.Run(() => Registry.FunctionRegistry.Pack(function.CodeDirectory, zip), context.RequestAborted);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await ApiErrorAsync(context, 500, "ServiceException", $"the node could not read the code of {name} revision {revision}: {e.Message}", type: "Service");
            return;
        }

        zip.Position = 0;
        context.Response.ContentType = "application/zip";
        context.Response.ContentLength = zip.Length;
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"{name}.zip\"";
        await zip.CopyToAsync(context.Response.Body, context.RequestAborted);
    }

    private static async Task EmptyListAsync(HttpContext context, INodeOperations node, string listName)
    {
        if (await AuthenticatedAsync(context, node, Nexus.Store.SigV4.EmptyHash))
        {
            await JsonAsync(context, 200, new JsonObject { [listName] = new JsonArray() });
        }
    }

    /// <summary>Lambda's FunctionEventInvokeConfig of the manifest: its retries, no destinations (the node has none).</summary>
    private static JsonObject EventInvokeConfig(DeployedFunction function) => new()
    {
        ["LastModified"] = function.LastModified.ToUnixTimeMilliseconds() / 1000.0,
        ["FunctionArn"] = function.Arn + ":$LATEST",
        ["MaximumRetryAttempts"] = function.Manifest.EventRetries,
        ["DestinationConfig"] = new JsonObject { ["OnSuccess"] = new JsonObject(), ["OnFailure"] = new JsonObject() },
    };

    private static async Task ListFunctionsAsync(HttpContext context, INodeOperations node)
    {
        if (await AuthenticatedAsync(context, node, Nexus.Store.SigV4.EmptyHash) && await PageAsync(context, node.Functions) is { } page)
        {
            await JsonAsync(context, 200, page.With("Functions"));
        }
    }

    private static Task ListVersionsAsync(HttpContext context, INodeOperations node) =>
        WithFunctionAsync(context, node, function => new JsonObject { ["Versions"] = new JsonArray(Configuration(function)) });

    private static async Task GetFunctionAsync(HttpContext context, INodeOperations node, bool configurationOnly)
    {
        await WithFunctionAsync(context, node, function =>
        {
            var configuration = Configuration(function);
            return configurationOnly
                ? configuration
                : new JsonObject
                {
                    ["Configuration"] = configuration,
                    ["Code"] = new JsonObject { ["RepositoryType"] = "Nexus", ["Location"] = node.CodeLinks.Create($"{context.Request.Scheme}://{context.Request.Host}", function) },
                };
        });
    }

    /// <summary>
    /// Answers <paramref name="answer"/>'s document for the function the route names (a name, partial ARN or ARN;
    /// 404 ResourceNotFoundException when there is none); a null document is Lambda's "does not exist" for a
    /// resource the function does not have (a policy, a function URL), or <paramref name="notFound"/>'s error.
    /// </summary>
    private static async Task WithFunctionAsync(HttpContext context, INodeOperations node, Func<DeployedFunction, JsonNode?> answer, string routeValue = "name", (string Type, string Message)? notFound = null)
    {
        if (!await AuthenticatedAsync(context, node, Nexus.Store.SigV4.EmptyHash)
            || await FunctionNameAsync(context, routeValue, node) is not { } name || !node.TryGetFunction(name, out var function))
        {
            return;
        }

        if (answer(function) is { } document)
        {
            await JsonAsync(context, 200, document);
        }
        else
        {
            var (type, message) = notFound ?? ("ResourceNotFoundException", "The resource you requested does not exist.");
            await ApiErrorAsync(context, 404, type, message);
        }
    }

    /// <summary>One page of <paramref name="functions"/> (ordered by name) after the request's Marker, at most its MaxItems and <see cref="MaxListPage"/>; null when the request was refused.</summary>
    private static async Task<FunctionPage?> PageAsync(HttpContext context, IReadOnlyCollection<DeployedFunction> functions)
    {
        var maxItems = MaxListPage;
        if (context.Request.Query["MaxItems"].ToString() is { Length: > 0 } raw
            && (!int.TryParse(raw, NumberStyles.None, CultureInfo.InvariantCulture, out maxItems) || maxItems is < 1 or > 10000))
        {
            await ApiErrorAsync(context, 400, "InvalidParameterValueException", $"MaxItems must be a whole number from 1 to 10000, got '{raw}'");
            return null;
        }

        var marker = context.Request.Query["Marker"].ToString();
        var after = functions.Where(f => string.CompareOrdinal(f.Manifest.Name, marker) > 0).ToList();
        var take = Math.Min(maxItems, MaxListPage);
        var items = after.Take(take).ToList();
        return new FunctionPage(items, after.Count > take ? items[^1].Manifest.Name : null);
    }

    /// <summary>The Lambda API routes the node does not serve: what was asked and what the node does serve.</summary>
    private static Task UnknownRouteAsync(HttpContext context)
    {
        var request = context.Request;
        var what = $"{request.Method} {request.Path}";
        if (request.Path.StartsWithSegments(ManagementPrefix, StringComparison.Ordinal) || !IsLambdaApiPath(request.Path))
        {
            return ApiErrorAsync(context, 404, "ResourceNotFoundException", $"the node has no endpoint {what}");
        }

        return ApiErrorAsync(context, 501, "NotImplementedException",
            $"the Nexus node does not implement {what} of the Lambda API. It serves Invoke, InvokeAsync, CreateFunction, UpdateFunctionCode, " +
            "UpdateFunctionConfiguration, DeleteFunction, GetFunction, GetFunctionConfiguration, " +
            "ListFunctions, ListVersionsByFunction, ListAliases, GetPolicy, GetFunctionConcurrency, ListTags, GetFunctionCodeSigningConfig, " +
            "GetFunctionEventInvokeConfig, GetFunctionUrlConfig, ListFunctionUrlConfigs, GetProvisionedConcurrencyConfig, " +
            "ListProvisionedConcurrencyConfigs, GetRuntimeManagementConfig, GetFunctionRecursionConfig, ListEventSourceMappings and ListLayers. " +
            "It keeps no versions or aliases (a function has only $LATEST, which each change replaces), so PublishVersion and alias changes are not served; " +
            "functions are also deployed and removed with `nexus deploy <folder>` and `nexus rm <name>`");
    }

    // The Lambda API's paths start with their API version, a date: /2015-03-31/..., /2019-09-30/...
    private static bool IsLambdaApiPath(PathString path) =>
        path.Value is { Length: >= 11 } value && DateOnly.TryParseExact(value.AsSpan(1, 10), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
        && (value.Length == 11 || value[11] == '/');

    /// <summary>A function's configuration in Lambda's FunctionConfiguration shape.</summary>
    public static JsonObject Configuration(DeployedFunction function)
    {
        var manifest = function.Manifest;
        var variables = new JsonObject();
        foreach (var (k, v) in manifest.Environment)
        {
            variables[k] = v;
        }

        return new JsonObject
        {
            ["FunctionName"] = manifest.Name,
            ["FunctionArn"] = function.Arn,
            ["Runtime"] = LambdaJson.Runtime,
            ["Role"] = $"arn:aws:iam::{LambdaJson.AccountId}:role/nexus-{manifest.Name}",
            ["Handler"] = manifest.Handler,
            ["CodeSize"] = function.CodeSize,
            ["Description"] = manifest.Description ?? $"io: {(manifest.Io == IoMode.Baseline ? "baseline" : "nexus")}",
            ["Timeout"] = (int)manifest.Timeout.TotalSeconds,
            ["MemorySize"] = manifest.MemoryMb,
            ["LastModified"] = function.LastModified.ToString("yyyy-MM-dd'T'HH:mm:ss.fff+0000", CultureInfo.InvariantCulture),
            ["CodeSha256"] = function.CodeSha256,
            ["Version"] = "$LATEST",
            ["RevisionId"] = function.Revision,
            ["Environment"] = new JsonObject { ["Variables"] = variables },
            ["PackageType"] = "Zip",
            ["State"] = "Active",

            // A deploy is atomic and complete when it returns: there is no update in progress to wait for (boto3's
            // function_updated waiters read this).
            ["LastUpdateStatus"] = "Successful",

            // The caller's trace header is passed on, nothing is sampled (docs/node.md).
            ["TracingConfig"] = new JsonObject { ["Mode"] = "PassThrough" },
            ["LoggingConfig"] = LoggingConfig(manifest),
            ["Architectures"] = new JsonArray("x86_64"),
        };
    }

    /// <summary>Lambda's LoggingConfig of the manifest's <c>logging:</c>: levels only with the JSON format, as Lambda answers.</summary>
    private static JsonObject LoggingConfig(FunctionManifest manifest)
    {
        var config = new JsonObject { ["LogFormat"] = manifest.Logging.Json ? "JSON" : "Text" };
        if (manifest.Logging.Json)
        {
            config["ApplicationLogLevel"] = manifest.Logging.ApplicationLogLevel;
            config["SystemLogLevel"] = manifest.Logging.SystemLogLevel;
        }

        config["LogGroup"] = "/aws/lambda/" + manifest.Name;
        return config;
    }

    // Accepts a name, NAME:QUALIFIER, a partial ARN (ACCOUNT:function:NAME[:QUALIFIER]) or a full ARN, as Lambda does.
    // Only $LATEST exists here.
    /// <summary>
    /// The function a route names (a name, partial ARN or ARN, with or without a qualifier), as Lambda reads it: null
    /// with the refusal answered when it is not one (400 ValidationException with Lambda's message), when an ARN names
    /// another region or account than the node's, or a qualifier other than $LATEST (404: no such function here); a
    /// name's qualifier and a Qualifier parameter that differ are 400 InvalidParameterValueException, as on Lambda.
    /// </summary>
    private static async Task<string?> FunctionNameAsync(HttpContext context, string routeValue, INodeOperations node)
    {
        var raw = Uri.UnescapeDataString((string)context.Request.RouteValues[routeValue]!);
        var match = raw.Length <= MaxFunctionNameLength ? FunctionNamePattern().Match(raw) : null;
        if (match is not { Success: true })
        {
            await ApiErrorAsync(context, 400, "ValidationException", $"1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {FunctionNameRegex} and length 1 to {MaxFunctionNameLength}");
            return null;
        }

        var name = match.Groups["name"].Value;
        var asked = context.Request.Query["Qualifier"].ToString();
        var qualifier = match.Groups["qualifier"].Success ? match.Groups["qualifier"].Value : asked;
        if (asked.Length > 0 && asked != qualifier)
        {
            // Lambda's answer: NAME:1 with Qualifier=2 names no one function (before, the Qualifier was dropped and
            // NAME:$LATEST with Qualifier=1 ran $LATEST).
            await ApiErrorAsync(context, 400, "InvalidParameterValueException", "The derived qualifier from the function name does not match the specified qualifier.");
            return null;
        }

        var region = match.Groups["region"].Success ? match.Groups["region"].Value : LambdaJson.Region;
        var account = match.Groups["account"].Success ? match.Groups["account"].Value : LambdaJson.AccountId;
        if (qualifier is not ("" or "$LATEST") || region != LambdaJson.Region || account != LambdaJson.AccountId || !node.TryGetFunction(name, out _))
        {
            await ApiErrorAsync(context, 404, "ResourceNotFoundException", "Function not found: " + $"arn:aws:lambda:{region}:{account}:function:{name}" + (qualifier is "" or "$LATEST" ? "" : ":" + qualifier));
            return null;
        }

        return name;
    }

    // Lambda's pattern for FunctionName (the API model's), with its parts named: partition prefix, region, account,
    // "function:", the name, and the qualifier.
    private const string FunctionNameRegex = @"(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_\.]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?";
    private const int MaxFunctionNameLength = 170;

    [System.Text.RegularExpressions.GeneratedRegex(@"^(arn:(aws[a-zA-Z-]*)?:lambda:)?((?<region>[a-z]{2}(-gov)?-[a-z]+-\d{1}):)?((?<account>\d{12}):)?(function:)?(?<name>[a-zA-Z0-9-_\.]+)(:(?<qualifier>\$LATEST|[a-zA-Z0-9-_]+))?$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex FunctionNamePattern();

    private sealed record FunctionPage(List<DeployedFunction> Items, string? NextMarker)
    {
        public JsonObject With(string listName)
        {
            var page = new JsonObject { [listName] = new JsonArray([.. Items.Select(f => (JsonNode)Configuration(f))]) };
            if (NextMarker is not null)
            {
                page["NextMarker"] = NextMarker;
            }

            return page;
        }
    }
}
