// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;

namespace Nexus.Functions;

/// <summary>
/// One input a function declares in its manifest (<c>inputs:</c>): a bucket and a key, each either a literal or a
/// path into the invocation event (<see cref="EventPath"/>).
/// </summary>
public sealed record InputHint(InputValue Bucket, InputValue Key)
{
    /// <summary>The object this hint names for <paramref name="invocationEvent"/>, or null when the event lacks a field.</summary>
    public (string Bucket, string Key)? Resolve(JsonElement invocationEvent) =>
        Bucket.Resolve(invocationEvent) is { Length: > 0 } bucket && Key.Resolve(invocationEvent) is { Length: > 0 } key
            ? (bucket, key)
            : null;
}

/// <summary>A literal string, or a path into the event whose value (a string) is used.</summary>
public sealed record InputValue(string? Literal, EventPath? Path)
{
    public static InputValue Parse(string text) => text.StartsWith('$') ? new(null, EventPath.Parse(text)) : new(text, null);

    public string? Resolve(JsonElement invocationEvent) => Literal ?? Path!.Resolve(invocationEvent);

    public override string ToString() => Literal ?? Path!.ToString();
}

/// <summary>
/// A path into a JSON event: <c>$</c> then <c>.name</c> or <c>[index]</c> steps, e.g. <c>$.input.key</c> or
/// <c>$.files[0].name</c>. Names are letters, digits, '_' and '-'. It selects a string (numbers are taken as text).
/// </summary>
public sealed class EventPath
{
    private const int MaxSteps = 16;

    private readonly object[] _steps;
    private readonly string _text;

    private EventPath(string text, object[] steps)
    {
        _text = text;
        _steps = steps;
    }

    /// <summary>Parses a path; throws <see cref="FormatException"/> naming the position of the first problem.</summary>
    public static EventPath Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.StartsWith('$'))
        {
            throw new FormatException($"an event path starts with '$', got '{text}'");
        }

        var steps = new List<object>();
        var i = 1;
        while (i < text.Length)
        {
            if (steps.Count == MaxSteps)
            {
                throw new FormatException($"an event path has at most {MaxSteps} steps");
            }

            if (text[i] == '.')
            {
                var start = ++i;
                while (i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || text[i] is '_' or '-'))
                {
                    i++;
                }

                if (i == start)
                {
                    throw new FormatException($"expected a field name at position {start} of '{text}'");
                }

                steps.Add(text[start..i]);
            }
            else if (text[i] == '[')
            {
                var close = text.IndexOf(']', i);
                if (close < 0 || !int.TryParse(text.AsSpan(i + 1, close - i - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var index))
                {
                    throw new FormatException($"expected [index] with a whole number at position {i} of '{text}'");
                }

                steps.Add(index);
                i = close + 1;
            }
            else
            {
                throw new FormatException($"expected '.' or '[' at position {i} of '{text}'");
            }
        }

        if (steps.Count == 0)
        {
            throw new FormatException("an event path names at least one field, e.g. $.key");
        }

        return new EventPath(text, [.. steps]);
    }

    /// <summary>The string at this path in <paramref name="root"/>, or null when a step is missing or the value is not a string or number.</summary>
    public string? Resolve(JsonElement root)
    {
        var current = root;
        foreach (var step in _steps)
        {
            if (step is string name)
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current))
                {
                    return null;
                }
            }
            else
            {
                var index = (int)step;
                if (current.ValueKind != JsonValueKind.Array || index >= current.GetArrayLength())
                {
                    return null;
                }

                current = current[index];
            }
        }

        return current.ValueKind switch
        {
            JsonValueKind.String => current.GetString(),
            JsonValueKind.Number => current.GetRawText(),
            _ => null,
        };
    }

    public override string ToString() => _text;
}
