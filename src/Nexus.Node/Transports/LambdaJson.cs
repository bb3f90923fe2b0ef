// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using System.Text.Json.Nodes;

namespace Nexus.Node.Transports;

/// <summary>The small JSON shapes of the Lambda APIs, written without reflection.</summary>
public static class LambdaJson
{
    public const string AccountId = "000000000000";
    public const string Region = "us-east-1";

    /// <summary>Lambda limits synchronous request and response payloads to 6 MB.</summary>
    public const int MaxPayloadBytes = 6 * 1024 * 1024;

    public static string FunctionArn(string name) => $"arn:aws:lambda:{Region}:{AccountId}:function:{name}";

    public static byte[] ErrorPayload(string errorType, string errorMessage) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject
        {
            ["errorMessage"] = errorMessage,
            ["errorType"] = errorType,
        });

    /// <summary>The body of an API-level error (not a function error): <c>{"Type","Message"}</c>.</summary>
    public static byte[] ApiError(string type, string message) =>
        JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["Type"] = type, ["Message"] = message });

    /// <summary>True when <paramref name="json"/> is one well-formed JSON value in valid UTF-8.</summary>
    public static bool IsValidJson(ReadOnlySpan<byte> json, out string? problem)
    {
        // The reader checks structure, not the bytes inside strings; a handler or the prefetch hints read them later.
        if (!System.Text.Unicode.Utf8.IsValid(json))
        {
            problem = "the body is not valid UTF-8";
            return false;
        }

        var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
        try
        {
            while (reader.Read())
            {
            }

            problem = null;
            return true;
        }
        catch (JsonException e) when (e.LineNumber is { } line && e.BytePositionInLine is { } column)
        {
            // The reader counts from 0 and appends its own "LineNumber: 0 | BytePositionInLine: 1."; a person counts from 1.
            var what = e.Message.Split(" LineNumber:", 2)[0].TrimEnd('.');
            problem = $"{what} (line {line + 1}, byte {column + 1})";
            return false;
        }
        catch (JsonException e)
        {
            problem = e.Message;
            return false;
        }
    }
}
