// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Storage;
using Nexus.Channel.Services;

namespace Nexus.Backend.Services;

/// <summary>
/// Lambda's Invoke, the one REST-protocol call the generic path reads: functions invoking functions of the node (the
/// node serves the Lambda API itself, docs/node.md). Its resource is <c>function/NAME</c>.
/// </summary>
public sealed partial record ServiceTarget
{
    /// <summary>botocore's name of the Lambda service.</summary>
    public const string LambdaService = "lambda";

    private const string InvokePrefix = "/2015-03-31/functions/";
    private const string InvokeSuffix = "/invocations";
    private const string FunctionPart = ":function:";
    private const string LatestQualifier = ":$LATEST";

    /// <summary>
    /// The function an Invoke names in its path, as <c>function/NAME</c>. The path segment botocore writes is a
    /// function name, a partial ARN (<c>ACCOUNT:function:NAME</c>) or an ARN, optionally with <c>:$LATEST</c>; it is
    /// taken only when what follows <c>:function:</c> (or the whole segment) is a plain Lambda function name, so the
    /// name checked against the grants is the one the node's API runs. Any other Lambda call, a qualifier other than
    /// <c>$LATEST</c> or another query is refused.
    /// </summary>
    private static ServiceTarget LambdaInvoke(ServiceRequest request)
    {
        if (request.Operation != "Invoke")
        {
            throw LambdaNotServed($"{request.Method} {StorageAuthorization.Quote(request.Path)}");
        }

        var path = request.Path;
        if (request.Method != "POST" || !path.StartsWith(InvokePrefix, StringComparison.Ordinal) || !path.EndsWith(InvokeSuffix, StringComparison.Ordinal)
            || path.Length <= InvokePrefix.Length + InvokeSuffix.Length)
        {
            throw ChannelRequestException.Invalid($"an Invoke is a POST to {InvokePrefix}NAME{InvokeSuffix}, got {request.Method} {StorageAuthorization.Quote(path)}");
        }

        if (request.Query.Length != 0 && request.Query is not ("Qualifier=%24LATEST" or "Qualifier=$LATEST"))
        {
            throw ChannelRequestException.Invalid($"an Invoke from a function takes no query but Qualifier=$LATEST (only $LATEST exists on the node), got {StorageAuthorization.Quote(request.Query)}");
        }

        var segment = Uri.UnescapeDataString(path[InvokePrefix.Length..^InvokeSuffix.Length]);
        var at = segment.IndexOf(FunctionPart, StringComparison.Ordinal);
        var name = at < 0 ? segment : segment[(at + FunctionPart.Length)..];
        if (name.EndsWith(LatestQualifier, StringComparison.Ordinal))
        {
            name = name[..^LatestQualifier.Length];
        }

        if (name.Length is < 1 or > 64 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')
            || (at >= 0 && !segment.AsSpan(0, at).ToString().All(c => char.IsAsciiLetterOrDigit(c) || c is ':' or '-')))
        {
            throw ChannelRequestException.Invalid($"an Invoke names a function by its name (1 to 64 of A-Z, a-z, 0-9, '-', '_'), partial ARN or ARN, optionally :$LATEST; got {StorageAuthorization.Quote(segment)}");
        }

        return new ServiceTarget("Invoke", ["function/" + name]);
    }

    /// <summary>
    /// The action of a Lambda call that arrives as plain HTTP (the signing proxy: no operation name travels with it):
    /// Invoke for a POST to an invocations path (<see cref="Resolve"/> then checks that path whole), else NotImplemented.
    /// </summary>
    public static string LambdaActionOf(string method, string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return method == "POST" && path.StartsWith(InvokePrefix, StringComparison.Ordinal) && path.EndsWith(InvokeSuffix, StringComparison.Ordinal)
            ? "Invoke"
            : throw LambdaNotServed($"{method} {StorageAuthorization.Quote(path)}");
    }

    private static ChannelRequestException LambdaNotServed(string call) =>
        new(501, "NotImplemented", $"of the Lambda API a function may call Invoke (the node serves it for its own functions); {call} was not sent");
}
