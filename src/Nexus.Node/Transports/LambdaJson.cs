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

    /// <summary>The Lambda runtime the function image provides (Debian 12's Python).</summary>
    public const string Runtime = "python3.11";

    /// <summary>
    /// Lambda's limit on a synchronous Invoke's request payload: 6 MB, exactly 6291456 bytes ("Request must be smaller
    /// than 6291456 bytes for the InvokeFunction operation").
    /// </summary>
    public const int MaxPayloadBytes = 6 * 1024 * 1024;

    /// <summary>
    /// Lambda's limit on the response a function's runtime posts (its body as posted, the marshalled result or error):
    /// 100 bytes over the request's, 6291556, the figure its Function.ResponseSizeTooLarge message names ("Response
    /// payload size (N bytes) exceeded maximum allowed payload size (6291556 bytes)."). The node took 6291456 before.
    /// </summary>
    public const int MaxResponseBytes = MaxPayloadBytes + 100;

    /// <summary>An asynchronous (Event) invocation's payload limit: Lambda's 1 MB (256 KB before October 2025).</summary>
    public const int MaxEventPayloadBytes = 1024 * 1024;

    /// <summary>Lambda's limit on an Invoke's ClientContext: characters of base64.</summary>
    public const int MaxClientContextLength = 3583;

    /// <summary>What Lambda answers for a client context that is not base64 of a JSON object.</summary>
    public const string BadClientContext = "Client context must be a valid Base64-encoded JSON object.";

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

    /// <summary>
    /// Decodes an Invoke's <c>X-Amz-Client-Context</c> (base64 of a JSON object, at most
    /// <see cref="MaxClientContextLength"/> characters) into the compact JSON the function's runtime gets: re-written, so
    /// it is one ASCII line (non-ASCII escaped), fit for the Runtime API's <c>Lambda-Runtime-Client-Context</c> header.
    /// Null with <paramref name="problem"/> set when it is not one.
    /// </summary>
    public static string? DecodeClientContext(string base64, out string? problem)
    {
        problem = base64.Length > MaxClientContextLength
            ? $"Client context must be at most {MaxClientContextLength} characters of base64, got {base64.Length}."
            : null;
        if (problem is not null)
        {
            return null;
        }

        var bytes = new byte[base64.Length];
        if (!Convert.TryFromBase64String(base64, bytes, out var length) || !IsValidJson(bytes.AsSpan(0, length), out _))
        {
            problem = BadClientContext;
            return null;
        }

        // Checked above, so this parse succeeds. A name given twice stays twice; the runtime's json.loads keeps the last.
        if (JsonNode.Parse(bytes.AsSpan(0, length), documentOptions: new JsonDocumentOptions { MaxDepth = 256 }) is JsonObject parsed)
        {
            return parsed.ToJsonString();
        }

        problem = BadClientContext;
        return null;
    }

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
