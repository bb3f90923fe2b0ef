// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Backend.Storage;
using Nexus.Channel.Services;

namespace Nexus.Backend.Services;

/// <summary>
/// The action a generic-path request performs and the resources it touches, read from the request itself (never from
/// what the sandbox claims), for the grant check. Only protocols that name their action in the request are served:
/// JSON (X-Amz-Target: prefix.Action; DynamoDB, and most newer services) and query (Action=... in a form body; SQS,
/// STS, SNS). REST-protocol services (Lambda, API Gateway, ...) encode the action in method and path, which the
/// backend does not model, so they are refused.
/// </summary>
internal sealed record ServiceTarget(string Action, IReadOnlyList<string> Resources)
{
    /// <summary>The resource of a call whose resource the node cannot name; only a grant with resource "*" covers it.</summary>
    public const string Unnamed = "*";

    public static ServiceTarget Resolve(ServiceRequest request, ReadOnlySpan<byte> body)
    {
        string action;
        var contentType = request.Header("content-type") ?? "";
        if (request.Header("x-amz-target") is { } target)
        {
            // A service that speaks both protocols picks by content type: a JSON target with a form body would let
            // the body's Action, not the checked target, decide what runs.
            if (!contentType.StartsWith("application/x-amz-json-", StringComparison.OrdinalIgnoreCase))
            {
                throw ChannelRequestException.Invalid($"a request with X-Amz-Target must be application/x-amz-json-*, not {StorageAuthorization.Quote(contentType)}");
            }

            var dot = target.LastIndexOf('.');
            action = dot < 0 ? target : target[(dot + 1)..];
        }
        else if (contentType.StartsWith("application/x-www-form-urlencoded", StringComparison.OrdinalIgnoreCase))
        {
            action = FormActions(body) switch
            {
                [var one] => one,
                [] => throw ChannelRequestException.Invalid("the form body names no Action"),
                _ => throw ChannelRequestException.Invalid("the form body names more than one Action"),
            };
        }
        else
        {
            throw new ChannelRequestException(501, "NotImplemented", $"{request.Service}:{request.Operation} is a REST-protocol call (no X-Amz-Target header, no form Action); the generic path serves JSON- and query-protocol services, whose requests name their action, so set \"io: baseline\" for this function");
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

            foreach (var property in document.RootElement.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "TableName":
                        tables.Add(TableResource(property.Value));
                        break;
                    case "RequestItems" when property.Value.ValueKind == JsonValueKind.Object:
                        tables.AddRange(property.Value.EnumerateObject().Select(t => "table/" + t.Name));
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
        }
        catch (JsonException e)
        {
            throw ChannelRequestException.Invalid($"the DynamoDB request body is not valid JSON: {e.Message}");
        }

        return tables;
    }

    private static string TableResource(JsonElement name) =>
        name.ValueKind == JsonValueKind.String
            ? "table/" + name.GetString()
            : throw ChannelRequestException.Invalid("TableName must be a string");

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
