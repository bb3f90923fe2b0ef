// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Backend.Storage;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Services;

/// <summary>
/// The action a generic-path request performs and the resources it touches, read from the request itself (never from
/// what the sandbox claims), for the grant check. Served: protocols that name their action in the request, JSON
/// (X-Amz-Target: prefix.Action; DynamoDB, and most newer services) and query (Action=... in a form body; SQS, STS,
/// SNS), and of the REST-protocol services, whose action is in method and path, Lambda's Invoke, GetFunctionConfiguration
/// and ListFunctions (the node's own API, <see cref="LambdaCall"/>). Any other REST call (SES v2, API Gateway, IoT data,
/// ...) does not say what it does in a way the node reads, so it is <see cref="AnyAction"/> on <see cref="Unnamed"/>:
/// only a grant of every action on every resource of its service covers it (the rest of Lambda is refused: its endpoint
/// is the node's own API).
/// </summary>
public sealed partial record ServiceTarget(string Action, IReadOnlyList<string> Resources)
{
    /// <summary>The resource of a call whose resource the node cannot name; only a grant with resource "*" covers it.</summary>
    public const string Unnamed = "*";

    /// <summary>The action of a REST-protocol call the node does not model: only a grant of every action ("*") covers it.</summary>
    public const string AnyAction = "*";

    public static ServiceTarget Resolve(ServiceRequest request, ReadOnlySpan<byte> body)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Service == LambdaService)
        {
            return LambdaCall(request);
        }

        if (ActionOf(request.Header("x-amz-target"), request.Header("content-type"), body) is not { } action)
        {
            return new ServiceTarget(AnyAction, [Unnamed]);
        }

        if (!string.Equals(action, request.Operation, StringComparison.Ordinal))
        {
            throw ChannelRequestException.Invalid($"the request performs {StorageAuthorization.Quote(action)} but says it is {request.Operation}");
        }

        if (request.Method != "POST" || request.Path != "/" || request.Query.Length != 0)
        {
            throw ChannelRequestException.Invalid($"a JSON or query protocol request is a POST to \"/\" without query, got {request.Method} {StorageAuthorization.Quote(request.Path + (request.Query.Length > 0 ? "?" + request.Query : ""))}");
        }

        var resources = request.Service == "dynamodb" ? DynamoDbTables(body) : [];
        return new ServiceTarget(action, resources.Count == 0 ? [Unnamed] : resources);
    }

    /// <summary>
    /// The target of a request to be presigned (its body travels in the URL's query, botocore having moved its
    /// parameters there): the action of its <c>X-Amz-Target</c> header or of the one <c>Action=</c> of its query, which
    /// must be the operation it says it is, else <see cref="AnyAction"/>; its resource is <see cref="Unnamed"/>, because
    /// a URL's holder can send any body. X-Amz-* query parameters are refused (the backend writes them).
    /// </summary>
    public static ServiceTarget ResolvePresigned(ServiceRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var names = request.Query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(pair => (Name: Uri.UnescapeDataString(pair.Split('=', 2)[0]), Value: Uri.UnescapeDataString(pair.Contains('=', StringComparison.Ordinal) ? pair.Split('=', 2)[1] : "")))
            .ToList();
        if (names.Any(p => p.Name.StartsWith("x-amz-", StringComparison.OrdinalIgnoreCase)))
        {
            throw ChannelRequestException.Invalid("a request to be presigned carries no X-Amz-* query parameters (the backend writes them)");
        }

        var actions = names.Where(p => p.Name == "Action").Select(p => p.Value).ToList();
        var target = request.Header("x-amz-target");
        var action = (target, actions) switch
        {
            (not null, []) => target[(target.LastIndexOf('.') + 1)..],
            (not null, _) => throw ChannelRequestException.Invalid("a request to be presigned names its action in X-Amz-Target or in its query's Action, not both"),
            (null, [var one]) => one,
            (null, []) => null,
            _ => throw ChannelRequestException.Invalid("the query names more than one Action"),
        };
        if (action is null)
        {
            return new ServiceTarget(AnyAction, [Unnamed]);
        }

        return action == request.Operation
            ? new ServiceTarget(action, [Unnamed])
            : throw ChannelRequestException.Invalid($"the request performs {StorageAuthorization.Quote(action)} but says it is {request.Operation}");
    }

    /// <summary>
    /// The action a request performs, from its <c>X-Amz-Target</c> header (<paramref name="target"/>) or the one
    /// <c>Action=</c> of its form body; null for a REST-protocol call (neither).
    /// </summary>
    public static string? ActionOf(string? target, string? contentType, ReadOnlySpan<byte> body)
    {
        contentType ??= "";
        if (target is not null)
        {
            // A service that speaks both protocols picks by content type: a JSON target with a form body would let
            // the body's Action, not the checked target, decide what runs.
            if (!contentType.StartsWith("application/x-amz-json-", StringComparison.OrdinalIgnoreCase))
            {
                throw ChannelRequestException.Invalid($"a request with X-Amz-Target must be application/x-amz-json-*, not {StorageAuthorization.Quote(contentType)}");
            }

            var dot = target.LastIndexOf('.');
            return dot < 0 ? target : target[(dot + 1)..];
        }

        if (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            return FormActions(body) switch
            {
                [var one] => one,
                [] => throw ChannelRequestException.Invalid("the form body names no Action"),
                _ => throw ChannelRequestException.Invalid("the form body names more than one Action"),
            };
        }

        return null;
    }

    /// <summary>
    /// Every table a DynamoDB request names, as "table/NAME": TableName, the keys of RequestItems (batch calls) and the
    /// TableName of each TransactItems entry. Every occurrence counts, duplicates included, so a body naming a table
    /// twice (once granted, once not) is checked for both, whichever the service would use.
    /// </summary>
    private static List<string> DynamoDbTables(ReadOnlySpan<byte> body)
    {
        var tables = new List<string>();
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            using var document = JsonDocument.ParseValue(ref reader);
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw ChannelRequestException.Invalid("a DynamoDB request body is a JSON object");
            }

            string? index = null;
            var named = 0;
            foreach (var property in document.RootElement.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "TableName":
                        tables.Add(TableResource(property.Value));
                        named++;
                        break;
                    case "IndexName":
                        index = DynamoDbName(property.Value, "IndexName");
                        named++;
                        break;
                    case "RequestItems" when property.Value.ValueKind == JsonValueKind.Object:
                        tables.AddRange(property.Value.EnumerateObject().Select(t => "table/" + DynamoDbName(t.Name, "a RequestItems table name")));
                        break;
                    case "TransactItems" when property.Value.ValueKind == JsonValueKind.Array:
                        foreach (var item in property.Value.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.Object))
                        {
                            foreach (var kind in item.EnumerateObject().Where(k => k.Value.ValueKind == JsonValueKind.Object))
                            {
                                tables.AddRange(kind.Value.EnumerateObject().Where(f => f.Name == "TableName").Select(f => TableResource(f.Value)));
                            }
                        }

                        break;
                }
            }

            if (index is not null)
            {
                // Query and Scan of an index read the index: its resource is table/T/index/I, which a grant on the
                // table also covers (Allowed), and a grant on table/T/index/* covers without the table.
                if (tables.Count != 1 || named != 2)
                {
                    throw ChannelRequestException.Invalid("IndexName goes with exactly one TableName");
                }

                tables[0] += "/index/" + index;
            }
        }
        catch (JsonException e)
        {
            throw ChannelRequestException.Invalid($"the DynamoDB request body is not valid JSON: {e.Message}");
        }

        return tables;
    }

    /// <summary>
    /// Whether <paramref name="manifest"/> lets the function perform <paramref name="action"/> on <paramref name="resource"/>:
    /// a grant on the resource itself, or, for an index (table/T/index/I), a grant on its table.
    /// </summary>
    public static bool Allowed(FunctionManifest manifest, string service, string action, string resource) =>
        manifest.AllowsService(service, action, resource)
        || (resource.IndexOf("/index/", StringComparison.Ordinal) is var at and > 0 && manifest.AllowsService(service, action, resource[..at]));

    private static string TableResource(JsonElement name) => "table/" + DynamoDbName(name, "TableName");

    private static string DynamoDbName(JsonElement name, string what) =>
        DynamoDbName(name.ValueKind == JsonValueKind.String ? name.GetString()! : "", what);

    /// <summary>A table or index name as DynamoDB allows it (3-255 of A-Z a-z 0-9 _ . -), so no name can forge a resource path.</summary>
    private static string DynamoDbName(string name, string what) =>
        name.Length is >= 3 and <= 255 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-')
            ? name
            : throw ChannelRequestException.Invalid($"{what} must be 3 to 255 of A-Z, a-z, 0-9, '_', '.', '-'");

    /// <summary>Every Action= of an application/x-www-form-urlencoded body (decoded).</summary>
    private static List<string> FormActions(ReadOnlySpan<byte> body)
    {
        var actions = new List<string>();
        foreach (var pair in Encoding.UTF8.GetString(body).Split('&'))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Uri.UnescapeDataString((eq < 0 ? pair : pair[..eq]).Replace('+', ' '));
            if (name == "Action")
            {
                actions.Add(Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' ')));
            }
        }

        return actions;
    }
}
