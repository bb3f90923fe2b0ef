// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Channel.Services;

namespace Nexus.Node.Transports.NexusChannel;

/// <summary>
/// The header of an InvocationResponse or InvocationError, <c>{"RequestId", "Next", "PickedUpNs", "SubmittedNs"}</c>,
/// read in one forward pass over the sandbox's bytes (a private copy) without building a document: it is parsed on
/// every warm invocation. The rules are those of the document-based parameter helpers (<see cref="ChannelJson"/>): one
/// JSON object and nothing after it, at most 16 deep; of a property given twice the last counts; other properties are
/// ignored; RequestId is a required string, Next an optional boolean, the two stamps optional 64-bit integers, null
/// standing for absent. Anything else fails the request with 400 (<see cref="ChannelRequestException"/>).
/// </summary>
public readonly record struct ResultHeader(string RequestId, bool Next, long? PickedUpNs, long? SubmittedNs)
{
    private const int MaxDepth = 16;

    public static ResultHeader Parse(ReadOnlySpan<byte> header)
    {
        // Each parameter as its last occurrence left it: the token it had (None: absent) and its value.
        var requestIdToken = JsonTokenType.None;
        var nextToken = JsonTokenType.None;
        var pickedUp = default(Integer);
        var submitted = default(Integer);
        var requestIdAt = default(Utf8JsonReader);
        string? requestId = null;
        if (!header.IsEmpty)
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = MaxDepth });
            try
            {
                reader.Read();
                if (reader.TokenType != JsonTokenType.StartObject)
                {
                    ReadToEnd(ref reader);
                    throw ChannelRequestException.Invalid("request parameters must be a JSON object");
                }

                while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
                {
                    if (reader.ValueTextEquals("RequestId"u8))
                    {
                        reader.Read();
                        requestIdToken = reader.TokenType;

                        // Kept (a copy of the reader on it) and decoded only if it is the last: an earlier one is not read.
                        requestIdAt = reader;
                    }
                    else if (reader.ValueTextEquals("Next"u8))
                    {
                        reader.Read();
                        nextToken = reader.TokenType;
                    }
                    else if (reader.ValueTextEquals("PickedUpNs"u8))
                    {
                        reader.Read();
                        pickedUp = Integer.Read(ref reader);
                    }
                    else if (reader.ValueTextEquals("SubmittedNs"u8))
                    {
                        reader.Read();
                        submitted = Integer.Read(ref reader);
                    }
                    else
                    {
                        reader.Read();
                    }

                    reader.Skip();
                }

                ReadToEnd(ref reader);
                if (requestIdToken == JsonTokenType.String)
                {
                    requestId = requestIdAt.GetString();
                }
            }
            catch (JsonException e)
            {
                throw ChannelRequestException.Invalid($"request header is not valid JSON: {e.Message}");
            }
            catch (InvalidOperationException)
            {
                // GetString of a string whose bytes are not UTF-8.
                throw ChannelRequestException.Invalid("request header is not valid JSON: a string is not valid UTF-8");
            }
        }

        // Checked in the order the document-based reading checked them, so a header with several faults names the same one.
        if (requestIdToken == JsonTokenType.None)
        {
            throw ChannelRequestException.Invalid("missing required parameter RequestId");
        }

        if (requestId is null)
        {
            throw ChannelRequestException.Invalid($"parameter RequestId must be a string, got {KindOf(requestIdToken)}");
        }

        if (nextToken is not (JsonTokenType.None or JsonTokenType.True or JsonTokenType.False or JsonTokenType.Null))
        {
            throw ChannelRequestException.Invalid("parameter Next must be a boolean");
        }

        return new ResultHeader(requestId, nextToken == JsonTokenType.True, pickedUp.Value("PickedUpNs"), submitted.Value("SubmittedNs"));
    }

    // Anything after the object's end is not JSON: Read throws on it.
    private static void ReadToEnd(ref Utf8JsonReader reader)
    {
        reader.Skip();
        while (reader.Read())
        {
        }
    }

    private static string KindOf(JsonTokenType token) => token switch
    {
        JsonTokenType.StartObject => nameof(JsonValueKind.Object),
        JsonTokenType.StartArray => nameof(JsonValueKind.Array),
        JsonTokenType.Number => nameof(JsonValueKind.Number),
        JsonTokenType.True => nameof(JsonValueKind.True),
        JsonTokenType.False => nameof(JsonValueKind.False),
        _ => nameof(JsonValueKind.Null),
    };

    // An optional 64-bit integer parameter: absent and null are the same; any other non-integer is a fault.
    private readonly record struct Integer(long? Number, bool Wrong)
    {
        public static Integer Read(ref Utf8JsonReader reader) => reader.TokenType switch
        {
            JsonTokenType.Null => default,
            JsonTokenType.Number when reader.TryGetInt64(out var n) => new Integer(n, false),
            _ => new Integer(null, true),
        };

        public long? Value(string name) =>
            Wrong ? throw ChannelRequestException.Invalid($"parameter {name} must be a 64-bit integer") : Number;
    }
}
