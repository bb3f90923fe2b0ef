// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Nexus.Node.Transports;

/// <summary>
/// Lambda's recursive loop detection: an invocation's trace header carries a <c>Lineage</c> field of
/// <c>{function hash}:{count}</c> entries ('|' between them, as Lambda writes them), each the number of times that
/// function ran in the chain of invocations the header followed. A function reads its header in
/// <c>_X_AMZN_TRACE_ID</c> and botocore sends it with every call (X-Amzn-Trace-Id), so the node sees the chain grow:
/// the invocation that would be a function's (<see cref="MaxHops"/> + 1)th in one chain is refused, as Lambda stops it.
/// </summary>
public static class InvocationLineage
{
    /// <summary>The most times one function runs in one chain (Lambda's figure: 16).</summary>
    public const int MaxHops = 16;

    /// <summary>The most functions one header tracks (the most recent kept).</summary>
    public const int MaxEntries = 16;

    private const string Field = "Lineage=";

    /// <summary>
    /// The header an invocation of <paramref name="functionArn"/> runs with: <paramref name="header"/> (a trace header
    /// <see cref="LambdaTrace"/> took or made) with this function's count one higher, first among its entries; and
    /// that count. A malformed entry is dropped.
    /// </summary>
    public static (string Header, int Hops) Continue(string header, string functionArn)
    {
        ArgumentNullException.ThrowIfNull(header);
        var fields = header.Split(';').ToList();
        var index = fields.FindIndex(f => f.StartsWith(Field, StringComparison.Ordinal));
        var entries = index < 0 ? [] : Entries(fields[index][Field.Length..]);
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(functionArn)).AsSpan(0, 4));
        var at = entries.FindIndex(e => e.Hash == hash);
        var hops = (at < 0 ? 0 : entries[at].Count) + 1;
        if (at >= 0)
        {
            entries.RemoveAt(at);
        }

        entries.Insert(0, (hash, hops));
        var lineage = Field + string.Join('|', entries.Take(MaxEntries).Select(e => string.Create(CultureInfo.InvariantCulture, $"{e.Hash}:{e.Count}")));
        if (index < 0)
        {
            fields.Add(lineage);
        }
        else
        {
            fields[index] = lineage;
        }

        return (string.Join(';', fields), hops);
    }

    // botocore percent-encodes '|' when it copies _X_AMZN_TRACE_ID into X-Amzn-Trace-Id.
    private static List<(string Hash, int Count)> Entries(string value) =>
        [.. value.Replace("%7C", "|", StringComparison.OrdinalIgnoreCase).Split('|')
            .Select(entry => entry.Split(':'))
            .Where(parts => parts is [{ Length: 8 } hash, var count] && !hash.AsSpan().ContainsAnyExcept("0123456789abcdef")
                && int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is > 0 and <= 1000)
            .Select(parts => (parts[0], int.Parse(parts[1], CultureInfo.InvariantCulture)))];
}
