// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Nexus.Functions;
using Nexus.Node.Registry;
using Nexus.Node.Transports;

namespace Nexus.Node.Api;

/// <summary>
/// The Lambda API's management calls (CreateFunction, UpdateFunctionCode, UpdateFunctionConfiguration,
/// DeleteFunction), mapped onto <c>nexus deploy</c> and <c>nexus rm</c>: each change is a deploy of a new revision
/// (warm instances finish their call on the one before), its function.yaml the Lambda API's settings over the
/// package's. They change what runs on the node, so they take what the management API takes: a loopback caller with
/// the node's admin key (SigV4) or management token; a function's key is refused.
/// </summary>
public static partial class NodeApi
{
    /// <summary>
    /// Lambda's limit on a request carrying code (CreateFunction, UpdateFunctionCode): its 50 MB (52428800 bytes) zip,
    /// base64 in the JSON body, as Lambda words it.
    /// </summary>
    internal const long MaxCodeRequestBytes = 69_905_067;

    // Lambda's default Timeout for a function created without one (the manifest's own default, 30 s, is nexus deploy's).
    private static readonly LambdaSettings s_lambdaDefaults = new() { TimeoutSeconds = 3 };

    // What each call takes; any other member given a value the node would not honour is refused, naming it, rather
    // than dropped. Role is taken and ignored (a function's permissions are its function.yaml grants).
    private static readonly string[] s_createMembers = ["FunctionName", "Runtime", "Role", "Handler", "Code", "Description", "Timeout", "MemorySize", "Environment"];
    private static readonly string[] s_updateCodeMembers = ["FunctionName", "ZipFile", "RevisionId"];
    private static readonly string[] s_updateConfigurationMembers = ["FunctionName", "Runtime", "Role", "Handler", "Description", "Timeout", "MemorySize", "Environment", "RevisionId"];

    private static void MapFunctionManagement(WebApplication app, INodeOperations node)
    {
        // Each call that reads the function and then deploys over it does both under a change of that function
        // (INodeOperations.BeginChangeAsync), which nexus deploy and nexus rm of it wait for too.
        app.MapPost(LambdaPrefix, context => ManageAsync(context, node, "CreateFunction", CreateFunctionAsync));
        app.MapPut(LambdaPrefix + "/{name}/code", context => ManageAsync(context, node, "UpdateFunctionCode", UpdateFunctionCodeAsync));
        app.MapPut(LambdaPrefix + "/{name}/configuration", context => ManageAsync(context, node, "UpdateFunctionConfiguration", UpdateFunctionConfigurationAsync));
        app.MapDelete(LambdaPrefix + "/{name}", context => ManageAsync(context, node, "DeleteFunction", DeleteFunctionAsync));
    }

    /// <summary>
    /// One management call: a loopback caller, the body within Lambda's limit, the admin key's signature or the
    /// management token, a JSON object; then <paramref name="call"/>. Its refusals are Lambda's errors.
    /// </summary>
    private static async Task ManageAsync(HttpContext context, INodeOperations node, string action, Func<HttpContext, INodeOperations, JsonElement, Task> call)
    {
        var request = context.Request;
        if (!IsLoopback(context))
        {
            await ApiErrorAsync(context, 403, "AccessDeniedException", $"{action} is answered to loopback callers only, as the node's management API is");
            return;
        }

        if (request.ContentLength > MaxCodeRequestBytes
            || await ReadBoundedAsync(request.Body, request.ContentLength, MaxCodeRequestBytes, context.RequestAborted) is not { } body)
        {
            await ApiErrorAsync(context, 413, TooLargeError, $"Request must be smaller than {MaxCodeRequestBytes} bytes for the {action} operation");
            return;
        }

        if (!await AuthenticatedAsync(context, node, Convert.ToHexStringLower(SHA256.HashData(body)), action))
        {
            return;
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.Length == 0 ? "{}"u8.ToArray() : body);
        }
        catch (JsonException e)
        {
            await ApiErrorAsync(context, 400, "InvalidRequestContentException", "Could not parse request body into json: " + e.Message);
            return;
        }

        using (document)
        {
            try
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new LambdaRequestException(400, "InvalidRequestContentException", "the request body must be a JSON object");
                }

                await call(context, node, document.RootElement);
            }
            catch (LambdaRequestException e)
            {
                await ApiErrorAsync(context, e.Status, e.ErrorType, e.Message);
            }
            catch (ManifestException e)
            {
                await ApiErrorAsync(context, 400, "InvalidParameterValueException", $"the function's manifest (the request's settings over the package's function.yaml) is refused: {e.Message}");
            }
            catch (InvalidDataException e)
            {
                await ApiErrorAsync(context, 400, "InvalidParameterValueException", $"Could not unzip uploaded file: {e.Message}");
            }
        }
    }

    private static async Task CreateFunctionAsync(HttpContext context, INodeOperations node, JsonElement request)
    {
        RefuseUnsupported(request, s_createMembers, "CreateFunction");
        var name = NewFunctionName(StringMember(request, "FunctionName") ?? throw InvalidParameter("FunctionName is required"));
        using var change = await node.BeginChangeAsync(name, context.RequestAborted);
        if (node.TryGetFunction(name, out _))
        {
            throw new LambdaRequestException(409, "ResourceConflictException", "Function already exist: " + name);
        }

        var runtime = StringMember(request, "Runtime");
        var handler = StringMember(request, "Handler");
        if (runtime is null || handler is null)
        {
            throw InvalidParameter("Runtime and Handler are mandatory parameters for functions created with deployment packages.");
        }

        CheckRuntime(runtime);
        if (!request.TryGetProperty("Code", out var code) || code.ValueKind != JsonValueKind.Object)
        {
            throw InvalidParameter("Code is required: Code.ZipFile, the function's zip");
        }

        RefuseUnsupported(code, ["ZipFile"], "CreateFunction's Code");
        var zip = ZipFile(code);
        var settings = RequestSettings(request) with { Name = name, Handler = handler };
        var function = await DeployAsync(node, zip, packaged => s_lambdaDefaults.Over(settings.Over(packaged), onlyWhereMissing: true), change, context);
        await JsonAsync(context, 201, Configuration(function));
    }

    private static async Task UpdateFunctionCodeAsync(HttpContext context, INodeOperations node, JsonElement request)
    {
        if (await FunctionToUpdateAsync(context, node, request, s_updateCodeMembers, "UpdateFunctionCode") is not { } found)
        {
            return;
        }

        var (function, change) = found;
        using var held = change;
        var zip = ZipFile(request);

        // The code changes, the configuration stays (as on Lambda); a function.yaml in the new package brings its Nexus
        // settings (io, grants, ...), and without one the function keeps its own.
        var deployed = await File.ReadAllTextAsync(Path.Combine(function.CodeDirectory, ManifestParser.FileName), context.RequestAborted);
        var kept = LambdaSettings.Of(function.Manifest);
        var updated = await DeployAsync(node, zip, packaged => kept.Over(packaged ?? deployed), change, context);
        await JsonAsync(context, 200, Configuration(updated));
    }

    private static async Task UpdateFunctionConfigurationAsync(HttpContext context, INodeOperations node, JsonElement request)
    {
        if (await FunctionToUpdateAsync(context, node, request, s_updateConfigurationMembers, "UpdateFunctionConfiguration") is not { } found)
        {
            return;
        }

        var (function, change) = found;
        using var held = change;
        if (StringMember(request, "Runtime") is { } runtime)
        {
            CheckRuntime(runtime);
        }

        // The same code again, as a package of what the function runs, with the settings over its function.yaml.
        using var package = new MemoryStream();
        await Task.Run(() => FunctionRegistry.Pack(function.CodeDirectory, package), context.RequestAborted);
        var settings = RequestSettings(request) with { Handler = StringMember(request, "Handler") };
        var updated = await DeployAsync(node, package.ToArray(), packaged => settings.Over(packaged), change, context);
        await JsonAsync(context, 200, Configuration(updated));
    }

    /// <summary>
    /// The function an update names, as it is under a change of it begun here (the caller ends it), the request held
    /// to what <paramref name="call"/> takes and to the function's RevisionId; null once a refusal is answered.
    /// </summary>
    private static async Task<(DeployedFunction Function, FunctionChange Change)?> FunctionToUpdateAsync(HttpContext context, INodeOperations node, JsonElement request, string[] members, string call)
    {
        if (await FunctionNameAsync(context, "name", node) is not { } name)
        {
            return null;
        }

        RefuseUnsupported(request, members, call);

        // The RevisionId is checked against the function as this change finds it, and nothing changes it until the
        // update is deployed: a stale one is refused, and two updates given the same one cannot both pass.
        var change = await node.BeginChangeAsync(name, context.RequestAborted);
        try
        {
            if (!node.TryGetFunction(name, out var function))
            {
                throw new LambdaRequestException(404, "ResourceNotFoundException", "Function not found: " + LambdaJson.FunctionArn(name));
            }

            CheckRevision(request, function);
            return (function, change);
        }
        catch
        {
            change.Dispose();
            throw;
        }
    }

    private static async Task DeleteFunctionAsync(HttpContext context, INodeOperations node, JsonElement request)
    {
        if (await FunctionNameAsync(context, "name", node) is not { } name)
        {
            return;
        }

        if (!await node.RemoveAsync(name, context.RequestAborted))
        {
            throw new LambdaRequestException(404, "ResourceNotFoundException", "Function not found: " + LambdaJson.FunctionArn(name));
        }

        context.Response.StatusCode = 204;
    }

    private static Task<DeployedFunction> DeployAsync(INodeOperations node, byte[] zip, Func<string?, string> manifestOf, FunctionChange change, HttpContext context)
    {
        var package = new MemoryStream(zip, writable: false);
        return node.DeployAsync(package, manifestOf, change, context.RequestAborted);
    }

    /// <summary>The name a CreateFunction gives (a name, partial ARN or ARN of this node's region and account, no qualifier), which must be a Nexus function name.</summary>
    private static string NewFunctionName(string raw)
    {
        var match = raw.Length <= MaxFunctionNameLength ? FunctionNamePattern().Match(raw) : null;
        if (match is not { Success: true })
        {
            throw new LambdaRequestException(400, "ValidationException", $"1 validation error detected: Value '{raw}' at 'functionName' failed to satisfy constraint: Member must satisfy regular expression pattern: {FunctionNameRegex} and length 1 to {MaxFunctionNameLength}");
        }

        if (match.Groups["qualifier"].Success
            || (match.Groups["region"].Success && match.Groups["region"].Value != LambdaJson.Region)
            || (match.Groups["account"].Success && match.Groups["account"].Value != LambdaJson.AccountId))
        {
            throw InvalidParameter($"FunctionName '{raw}' must be a name, or an ARN of this node's region ({LambdaJson.Region}) and account ({LambdaJson.AccountId}) without a qualifier");
        }

        var name = match.Groups["name"].Value;
        return ManifestParser.IsFunctionName(name)
            ? name
            : throw InvalidParameter($"FunctionName '{name}' is not a Nexus function name: 1 to 48 characters of a-z, 0-9 and '-' (the node's manifests and files are named by it)");
    }

    // The node's image runs one Python 3; a function written for any python3.x runtime runs on it.
    private static void CheckRuntime(string runtime)
    {
        if (!runtime.StartsWith("python3.", StringComparison.Ordinal) || !int.TryParse(runtime.AsSpan("python3.".Length), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
        {
            throw InvalidParameter($"The runtime parameter of {runtime} is not supported by the Nexus node: it runs Python functions (python3.x runtimes, each run on the node's {LambdaJson.Runtime})");
        }
    }

    // Lambda's optimistic lock: a RevisionId that is not the function's current one means someone changed it since.
    private static void CheckRevision(JsonElement request, DeployedFunction function)
    {
        if (StringMember(request, "RevisionId") is { } revision && revision != function.Revision)
        {
            throw new LambdaRequestException(412, "PreconditionFailedException", "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id");
        }
    }

    /// <summary>The Timeout, MemorySize, Description and Environment a request gives (null: not given).</summary>
    private static LambdaSettings RequestSettings(JsonElement request)
    {
        Dictionary<string, string>? environment = null;
        if (request.TryGetProperty("Environment", out var given) && given.ValueKind != JsonValueKind.Null)
        {
            environment = new(StringComparer.Ordinal);
            if (given.ValueKind != JsonValueKind.Object)
            {
                throw InvalidParameter("Environment must be an object: {\"Variables\": {...}}");
            }

            if (given.TryGetProperty("Variables", out var variables) && variables.ValueKind != JsonValueKind.Null)
            {
                if (variables.ValueKind != JsonValueKind.Object)
                {
                    throw InvalidParameter("Environment.Variables must be an object of names to text values");
                }

                foreach (var variable in variables.EnumerateObject())
                {
                    environment[variable.Name] = variable.Value.ValueKind == JsonValueKind.String
                        ? variable.Value.GetString()!
                        : throw InvalidParameter($"Environment.Variables.{variable.Name} must be text");
                }
            }
        }

        return new LambdaSettings
        {
            TimeoutSeconds = IntMember(request, "Timeout"),
            MemoryMb = IntMember(request, "MemorySize"),
            Description = StringMember(request, "Description"),
            Environment = environment,
        };
    }

    /// <summary>The zip a request's ZipFile member holds (base64 in the JSON, as the SDKs send a blob).</summary>
    private static byte[] ZipFile(JsonElement holder)
    {
        if (!holder.TryGetProperty("ZipFile", out var zip) || zip.ValueKind == JsonValueKind.Null)
        {
            throw InvalidParameter("Please provide a source for function code: ZipFile (the node takes a zip; S3 locations and container images are not supported)");
        }

        return zip.ValueKind == JsonValueKind.String && zip.TryGetBytesFromBase64(out var bytes)
            ? bytes
            : throw InvalidParameter("ZipFile must be the zip's bytes in base64");
    }

    /// <summary>
    /// Refuses a member other than <paramref name="supported"/> given a value the node would not honour, naming it: a
    /// VPC, layers, tags, an S3 or image source, published versions, ... Those given empty, or as the node works anyway
    /// (PackageType Zip, x86_64, tracing PassThrough, Publish and DryRun false), are taken.
    /// </summary>
    private static void RefuseUnsupported(JsonElement request, string[] supported, string call)
    {
        foreach (var member in request.EnumerateObject())
        {
            if (supported.Contains(member.Name, StringComparer.Ordinal) || IsWhatTheNodeDoes(member))
            {
                continue;
            }

            var why = member.Name is "Publish"
                ? "the node keeps no versions: a function has only $LATEST, which every change replaces (PublishVersion and aliases are not supported)"
                : $"the node does not model it ({call} takes {string.Join(", ", supported.Where(s => s != "FunctionName"))})";
            throw InvalidParameter($"{member.Name} is not supported by the Nexus node: {why}");
        }
    }

    private static bool IsWhatTheNodeDoes(JsonProperty member)
    {
        var value = member.Value;
        return value.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.False => true,
            JsonValueKind.Object => !value.EnumerateObject().Any() || (member.Name == "TracingConfig" && value.GetRawText().Replace(" ", "", StringComparison.Ordinal) == """{"Mode":"PassThrough"}"""),
            JsonValueKind.Array => value.GetArrayLength() == 0 || (member.Name == "Architectures" && value.GetArrayLength() == 1 && value[0].ValueEquals("x86_64")),
            JsonValueKind.String => value.GetString()!.Length == 0 || (member.Name == "PackageType" && value.ValueEquals("Zip")),
            _ => false,
        };
    }

    private static string? StringMember(JsonElement request, string name) =>
        !request.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.String ? value.GetString()
        : throw InvalidParameter($"{name} must be text");

    private static int? IntMember(JsonElement request, string name) =>
        !request.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null ? null
        : value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) ? number
        : throw InvalidParameter($"{name} must be a whole number");

    private static LambdaRequestException InvalidParameter(string message) => new(400, "InvalidParameterValueException", message);

    /// <summary>A management call's refusal, answered as Lambda's error of <see cref="ErrorType"/>.</summary>
    private sealed class LambdaRequestException(int status, string errorType, string message) : Exception(message)
    {
        public int Status { get; } = status;

        public string ErrorType { get; } = errorType;
    }
}
