// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Node.Transports;

/// <summary>
/// The X-Ray trace header an invocation carries (the function reads it in <c>_X_AMZN_TRACE_ID</c>, as on Lambda):
/// the caller's <c>X-Amzn-Trace-Id</c> when it is a well-formed one, else a new root. Either goes into a Runtime API
/// response header and the channel's event header, so only a bounded, header-safe text is ever taken.
/// </summary>
public static class LambdaTrace
{
    /// <summary>The longest caller trace header passed on (room for a root, a parent and a full <see cref="InvocationLineage"/>).</summary>
    public const int MaxHeaderLength = 512;

    /// <summary>A new header: <c>Root=1-{epoch seconds, 8 hex}-{96 random bits}</c>, a parent id, not sampled.</summary>
    public static string NewHeader(DateTimeOffset now)
    {
        Span<byte> random = stackalloc byte[20];
        Random.Shared.NextBytes(random);
        var seconds = ((uint)now.ToUnixTimeSeconds()).ToString("x8", CultureInfo.InvariantCulture);
        return $"Root=1-{seconds}-{Convert.ToHexStringLower(random[..12])};Parent={Convert.ToHexStringLower(random[12..])};Sampled=0";
    }

    /// <summary>
    /// The caller's header if it is a trace header this node passes on: at most <see cref="MaxHeaderLength"/>
    /// characters of <c>key=value</c> fields split by ';' (letters, digits, '-', '_', '.', ':', '|', '%'), its Root field
    /// <c>1-{8 hex}-{24 hex}</c>. Null otherwise (the invocation then gets a new root).
    /// </summary>
    public static string? Accept(string? header)
    {
        if (string.IsNullOrEmpty(header) || header.Length > MaxHeaderLength)
        {
            return null;
        }

        var rooted = false;
        foreach (var field in header.Split(';'))
        {
            var eq = field.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0 || !IsToken(field.AsSpan(0, eq)) || !IsToken(field.AsSpan(eq + 1)))
            {
                return null;
            }

            if (field.StartsWith("Root=", StringComparison.Ordinal))
            {
                rooted = IsRoot(field.AsSpan(eq + 1));
                if (!rooted)
                {
                    return null;
                }
            }
        }

        return rooted ? header : null;
    }

    private static bool IsRoot(ReadOnlySpan<char> root) =>
        root.Length == 35 && root.StartsWith("1-") && root[10] == '-' && IsHex(root[2..10]) && IsHex(root[11..]);

    private static bool IsHex(ReadOnlySpan<char> text) => !text.ContainsAnyExcept("0123456789abcdefABCDEF");

    private static bool IsToken(ReadOnlySpan<char> text) =>
        text.Length > 0 && !text.ContainsAnyExcept("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:|%");
}
