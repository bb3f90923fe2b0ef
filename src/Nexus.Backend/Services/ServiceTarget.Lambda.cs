// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Storage;
using Nexus.Channel.Services;

namespace Nexus.Backend.Services;

/// <summary>
/// The Lambda calls a function may make of the node (which serves the Lambda API itself, docs/node.md), the REST-protocol
/// calls the generic path reads: Invoke and GetFunctionConfiguration of <c>function/NAME</c>, and ListFunctions (resource
/// <c>*</c>). Not GetFunction: its answer names the function's code folder on the host.
/// </summary>
public sealed partial record ServiceTarget
{
    /// <summary>botocore's name of the Lambda service.</summary>
    public const string LambdaService = "lambda";

    private const string FunctionsPath = "/2015-03-31/functions";
    private const string InvokePrefix = FunctionsPath + "/";
    private const string InvokeSuffix = "/invocations";
    private const string ConfigurationSuffix = "/configuration";
    private const string FunctionPart = ":function:";
    private const string LatestQualifier = ":$LATEST";

    // ListFunctions' query members (botocore's names); the node's API checks their values.
    private static readonly string[] s_listQueryMembers = ["Marker", "MaxItems", "FunctionVersion", "MasterRegion"];

    /// <summary>
    /// A Lambda call's action is read from its method and path, as the signing proxy reads it; the operation the sandbox
    /// names must be that one (the backend's handling of an Invoke, a wait that gives its permit back, follows the name).
    /// </summary>
    private static ServiceTarget LambdaCall(ServiceRequest request)
    {
        var action = LambdaActionOf(request.Method, request.Path);
        if (request.Operation != action)
        {
            throw ChannelRequestException.Invalid($"a {request.Method} of {StorageAuthorization.Quote(request.Path)} is a Lambda {action}, not {StorageAuthorization.Quote(request.Operation)}");
        }

        return action switch
        {
            "Invoke" => new ServiceTarget(action, ["function/" + NamedFunction(request, "POST", InvokeSuffix, "an Invoke")]),
            "GetFunctionConfiguration" => new ServiceTarget(action, ["function/" + NamedFunction(request, "GET", ConfigurationSuffix, "a GetFunctionConfiguration")]),
            _ => LambdaList(request),
        };
    }

    /// <summary>
    /// The function a call names in its path. The path segment botocore writes is a function name, a partial ARN
    /// (<c>ACCOUNT:function:NAME</c>) or an ARN, optionally with <c>:$LATEST</c>; it is taken only when what follows
    /// <c>:function:</c> (or the whole segment) is a plain Lambda function name, so the name checked against the grants
    /// is the one the node's API answers for. A qualifier other than <c>$LATEST</c> or another query is refused.
    /// </summary>
    private static string NamedFunction(ServiceRequest request, string method, string suffix, string call)
    {
        var path = request.Path;
        if (request.Method != method || !path.StartsWith(InvokePrefix, StringComparison.Ordinal) || !path.EndsWith(suffix, StringComparison.Ordinal)
            || path.Length <= InvokePrefix.Length + suffix.Length)
        {
            throw ChannelRequestException.Invalid($"{call} is a {method} to {InvokePrefix}NAME{suffix}, got {request.Method} {StorageAuthorization.Quote(path)}");
        }

        if (request.Query.Length != 0 && request.Query is not ("Qualifier=%24LATEST" or "Qualifier=$LATEST"))
        {
            throw ChannelRequestException.Invalid($"{call} from a function takes no query but Qualifier=$LATEST (only $LATEST exists on the node), got {StorageAuthorization.Quote(request.Query)}");
        }

        var segment = Uri.UnescapeDataString(path[InvokePrefix.Length..^suffix.Length]);
        var at = segment.IndexOf(FunctionPart, StringComparison.Ordinal);
        var name = at < 0 ? segment : segment[(at + FunctionPart.Length)..];
        if (name.EndsWith(LatestQualifier, StringComparison.Ordinal))
        {
            name = name[..^LatestQualifier.Length];
        }

        if (name.Length is < 1 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            || (at >= 0 && !segment.AsSpan(0, at).ToString().All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '-')))
        {
            throw ChannelRequestException.Invalid($"{call} names a function by its name (1 to 64 of A-Z, a-z, 0-9, '-', '_'), partial ARN or ARN, optionally :$LATEST; got {StorageAuthorization.Quote(segment)}");
        }

        return name;
    }

    /// <summary>ListFunctions: a GET of the functions path with ListFunctions' query members only; every function (<c>*</c>).</summary>
    private static ServiceTarget LambdaList(ServiceRequest request)
    {
        if (request.Method != "GET" || request.Path is not (FunctionsPath or InvokePrefix))
        {
            throw ChannelRequestException.Invalid($"a ListFunctions is a GET of {InvokePrefix}, got {request.Method} {StorageAuthorization.Quote(request.Path)}");
        }

        foreach (var pair in request.Query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var member = Uri.UnescapeDataString(pair.Split('=')[0]);
            if (!s_listQueryMembers.Contains(member, StringComparer.Ordinal))
            {
                throw ChannelRequestException.Invalid($"a ListFunctions takes the query members {string.Join(", ", s_listQueryMembers)}, got {StorageAuthorization.Quote(member)}");
            }
        }

        return new ServiceTarget("ListFunctions", [Unnamed]);
    }

    /// <summary>
    /// The action of a Lambda call that arrives as plain HTTP (the signing proxy: no operation name travels with it):
    /// Invoke for a POST to an invocations path, GetFunctionConfiguration for a GET of a configuration path,
    /// ListFunctions for a GET of the functions path (<see cref="Resolve"/> then checks the path whole), else
    /// NotImplemented.
    /// </summary>
    public static string LambdaActionOf(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return (method, path) switch
        {
            ("POST", _) when path.StartsWith(InvokePrefix, StringComparison.Ordinal) && path.EndsWith(InvokeSuffix, StringComparison.Ordinal) => "Invoke",
            ("GET", _) when path.StartsWith(InvokePrefix, StringComparison.Ordinal) && path.EndsWith(ConfigurationSuffix, StringComparison.Ordinal) => "GetFunctionConfiguration",
            ("GET", FunctionsPath or InvokePrefix) => "ListFunctions",
            _ => throw LambdaNotServed($"{method} {StorageAuthorization.Quote(path)}"),
        };
    }

    private static ChannelRequestException LambdaNotServed(string call) =>
        new(501, "NotImplemented", $"of the Lambda API a function may call Invoke, GetFunctionConfiguration and ListFunctions (the node serves them for its own functions); {call} was not sent");
}
