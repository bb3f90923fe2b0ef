// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Nexus.Channel.Services;

/// <summary>Reading request parameters (with clear errors naming the field) and writing response JSON, for every channel service.</summary>
public static class ChannelJson
{
    // One buffer and one writer per thread, reset for each message: a header costs one array (its exact bytes).
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? s_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? s_writer;

    /// <summary>Writes a JSON message and returns its bytes (the only allocation: a reused buffer and writer per thread).</summary>
    public static byte[] Write(Action<Utf8JsonWriter> write)
    {
        ArgumentNullException.ThrowIfNull(write);

        // Taken out of the thread's slot while in use, so that a nested call gets a fresh pair.
        var buffer = s_buffer ?? new ArrayBufferWriter<byte>(256);
        var writer = s_writer ?? new Utf8JsonWriter(buffer);
        s_buffer = null;
        s_writer = null;
        buffer.ResetWrittenCount();
        writer.Reset(buffer);
        write(writer);
        writer.Flush();
        var bytes = buffer.WrittenSpan.ToArray();

        // Put back only after success (a writer left mid-message is dropped) and only if small.
        if (buffer.Capacity <= 64 * 1024)
        {
            s_buffer = buffer;
            s_writer = writer;
        }

        return bytes;
    }

    /// <summary>Writes <c>"name": [{...}, ...]</c>: one object per item, its members written by <paramref name="writeMembers"/>.</summary>
    public static void WriteObjectArray<T>(Utf8JsonWriter w, string name, IEnumerable<T> items, Action<Utf8JsonWriter, T> writeMembers)
    {
        ArgumentNullException.ThrowIfNull(w);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(writeMembers);
        w.WriteStartArray(name);
        foreach (var item in items)
        {
            w.WriteStartObject();
            writeMembers(w, item);
            w.WriteEndObject();
        }

        w.WriteEndArray();
    }

    public static void WriteError(Utf8JsonWriter w, string code, string message, string? resource = null)
    {
        w.WriteStartObject();
        w.WriteStartObject("Error");
        w.WriteString("Code", code);
        w.WriteString("Message", message);
        if (resource is not null)
        {
            w.WriteString("Resource", resource);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static void WriteTimestamp(Utf8JsonWriter w, string name, DateTime? value)
    {
        if (value is { } v)
        {
            w.WriteString(name, v.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
        }
    }

    public static void WriteIfPresent(Utf8JsonWriter w, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            w.WriteString(name, value);
        }
    }

    public static string RequiredString(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value))
        {
            throw ChannelRequestException.Invalid($"missing required parameter {name}");
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw ChannelRequestException.Invalid($"parameter {name} must be a string, got {value.ValueKind}");
        }

        return value.GetString()!;
    }

    public static string? OptionalString(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            throw ChannelRequestException.Invalid($"parameter {name} must be a string, got {value.ValueKind}");
        }

        return value.GetString();
    }

    public static int? OptionalInt(JsonElement obj, string name) => OptionalInteger(obj, name, 32) is { } value ? (int)value : null;

    public static long? OptionalInt64(JsonElement obj, string name) => OptionalInteger(obj, name, 64);

    private static long? OptionalInteger(JsonElement obj, string name, int bits)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var result) || (bits == 32 && result is < int.MinValue or > int.MaxValue))
        {
            throw ChannelRequestException.Invalid($"parameter {name} must be a {bits}-bit integer");
        }

        return result;
    }

    public static bool OptionalBool(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return false;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw ChannelRequestException.Invalid($"parameter {name} must be a boolean"),
        };
    }

    public static IReadOnlyDictionary<string, string> OptionalStringMap(JsonElement obj, string name)
    {
        if (!obj.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return new Dictionary<string, string>();
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            throw ChannelRequestException.Invalid($"parameter {name} must be an object of strings");
        }

        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in value.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                throw ChannelRequestException.Invalid($"parameter {name}.{p.Name} must be a string");
            }

            map[p.Name] = p.Value.GetString()!;
        }

        return map;
    }

    /// <summary>
    /// The errorType of a Lambda error JSON body, when it is a JSON object (of a property given twice, the last) whose
    /// errorType is a string. Read in one forward pass, no document: the body is the sandbox's and may be large.
    /// </summary>
    public static string? ErrorType(ReadOnlyMemory<byte> body)
    {
        var reader = new Utf8JsonReader(body.Span, new JsonReaderOptions { MaxDepth = 16 });

        // The last errorType's value: a copy of the reader on it, decoded once the whole body has been read.
        var errorType = default(Utf8JsonReader);
        var found = false;
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }

            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isErrorType = reader.ValueTextEquals("errorType"u8);
                reader.Read();
                if (isErrorType)
                {
                    errorType = reader;
                    found = true;
                }

                reader.Skip();
            }

            // The whole body must be JSON, as a parse of it would require.
            while (reader.Read())
            {
            }

            return found && errorType.TokenType == JsonTokenType.String ? errorType.GetString() : null;
        }
        catch (JsonException)
        {
            return null;
        }
        catch (InvalidOperationException)
        {
            // A string whose bytes are not UTF-8.
            return null;
        }
    }
}
