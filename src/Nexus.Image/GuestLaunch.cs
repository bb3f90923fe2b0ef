// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;

namespace Nexus.Image;

/// <summary>
/// What nexus-init (guest/init) starts in a Linux guest: the runtime's command line (argv[0] is looked up in the
/// environment's PATH) and its whole environment. Written to the code drive NUL-separated, so no value is ever parsed.
/// </summary>
public sealed record GuestLaunch(IReadOnlyList<string> Argv, IReadOnlyDictionary<string, string> Environment)
{
    internal byte[] ArgvBytes()
    {
        if (Argv.Count == 0)
        {
            throw new ArgumentException("a guest launch needs a command", nameof(Argv));
        }

        return Join(Argv.Select(a => Check(a, "an argument")));
    }

    internal byte[] EnvironmentBytes() =>
        Join(Environment.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e =>
            e.Key.Length == 0 || e.Key.Contains('=', StringComparison.Ordinal)
                ? throw new ArgumentException($"environment name '{e.Key}' is empty or holds '='", nameof(Environment))
                : Check(e.Key, "a name") + "=" + Check(e.Value, "a value")));

    private static string Check(string item, string what) =>
        item.Contains('\0', StringComparison.Ordinal) ? throw new ArgumentException($"{what} holds a NUL character") : item;

    private static byte[] Join(IEnumerable<string> items) => Encoding.UTF8.GetBytes(string.Concat(items.Select(i => i + "\0")));
}
