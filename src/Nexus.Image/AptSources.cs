// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image;

/// <summary>
/// Finds the Debian mirror the host's apt uses, so debootstrap fetches from the same place apt-get does
/// (a machine behind a local mirror or snapshot keeps working). Reads both formats: one-line
/// <c>sources.list</c> entries and deb822 <c>*.sources</c> stanzas.
/// </summary>
internal static class AptSources
{
    public const string DefaultMirror = "http://deb.debian.org/debian";

    /// <summary>One "deb" source: an archive URI serving <see cref="Suite"/>.</summary>
    internal sealed record Source(string Uri, string Suite);

    /// <summary>The host's mirror for <paramref name="suite"/>, else <see cref="DefaultMirror"/>.</summary>
    public static string DetectMirror(string suite, string aptDirectory = "/etc/apt")
    {
        var files = new List<(string Path, string Text)>();
        var list = Path.Combine(aptDirectory, "sources.list");
        if (File.Exists(list))
        {
            files.Add((list, File.ReadAllText(list)));
        }

        var listDir = Path.Combine(aptDirectory, "sources.list.d");
        if (Directory.Exists(listDir))
        {
            // Only the names apt itself reads: "*.list" and "*.sources" (e.g. "x.list.disabled" is off).
            foreach (var file in Directory.GetFiles(listDir).Order(StringComparer.Ordinal))
            {
                if (file.EndsWith(".list", StringComparison.Ordinal) || file.EndsWith(".sources", StringComparison.Ordinal))
                {
                    files.Add((file, File.ReadAllText(file)));
                }
            }
        }

        return FindMirror(files, suite) ?? DefaultMirror;
    }

    /// <summary>The first usable "deb" URI serving exactly <paramref name="suite"/>, in apt's file order.</summary>
    public static string? FindMirror(IEnumerable<(string Path, string Text)> files, string suite)
    {
        foreach (var (path, text) in files)
        {
            var sources = path.EndsWith(".sources", StringComparison.Ordinal) ? ParseDeb822(text) : ParseOneLine(text);
            var match = sources.FirstOrDefault(s => s.Suite == suite && IsFetchable(s.Uri));
            if (match is not null)
            {
                return match.Uri.TrimEnd('/');
            }
        }

        return null;
    }

    /// <summary>"deb [options] uri suite component..." lines; deb-src, comments and malformed lines are skipped.</summary>
    internal static IEnumerable<Source> ParseOneLine(string text)
    {
        foreach (var raw in text.Split('\n'))
        {
            var line = StripComment(raw);
            if (!line.StartsWith("deb ", StringComparison.Ordinal) && !line.StartsWith("deb\t", StringComparison.Ordinal))
            {
                continue;
            }

            var rest = line[3..].Trim();
            if (rest.StartsWith('['))
            {
                var close = rest.IndexOf(']', StringComparison.Ordinal);
                if (close < 0)
                {
                    continue;
                }

                rest = rest[(close + 1)..].Trim();
            }

            var fields = rest.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length >= 2)
            {
                yield return new Source(fields[0], fields[1]);
            }
        }
    }

    /// <summary>deb822 stanzas (blank-line separated "Field: value" blocks); "Enabled: no" stanzas are off.</summary>
    internal static IEnumerable<Source> ParseDeb822(string text)
    {
        foreach (var stanza in text.Replace("\r", "", StringComparison.Ordinal).Split("\n\n"))
        {
            var fields = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            string? last = null;
            foreach (var raw in stanza.Split('\n'))
            {
                if (raw.StartsWith('#'))
                {
                    continue;
                }

                if (raw.Length > 0 && char.IsWhiteSpace(raw[0]) && last is not null)
                {
                    // A continuation line extends the previous field's value.
                    fields[last] += " " + raw.Trim();
                    continue;
                }

                var colon = raw.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    last = raw[..colon].Trim();
                    fields[last] = raw[(colon + 1)..].Trim();
                }
            }

            if (!Words(fields, "Types").Contains("deb")
                || string.Equals(fields.GetValueOrDefault("Enabled")?.Trim(), "no", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            foreach (var uri in Words(fields, "URIs"))
            {
                foreach (var suite in Words(fields, "Suites"))
                {
                    yield return new Source(uri, suite);
                }
            }
        }
    }

    /// <summary>Checks a configured mirror: debootstrap takes http(s):// and file:// archives.</summary>
    public static string ValidateMirror(string mirror)
    {
        var trimmed = mirror.Trim();
        if (!IsFetchable(trimmed) || !Uri.TryCreate(trimmed, UriKind.Absolute, out _))
        {
            throw new ImageBuildException(
                $"image mirror '{mirror}' is not an http://, https:// or file:// URL of a Debian archive (e.g. {DefaultMirror})");
        }

        return trimmed.TrimEnd('/');
    }

    private static bool IsFetchable(string uri) =>
        uri.StartsWith("http://", StringComparison.OrdinalIgnoreCase)
        || uri.StartsWith("https://", StringComparison.OrdinalIgnoreCase)
        || uri.StartsWith("file:///", StringComparison.OrdinalIgnoreCase);

    private static string[] Words(Dictionary<string, string> fields, string name) =>
        fields.TryGetValue(name, out var value) ? value.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries) : [];

    private static string StripComment(string line)
    {
        var hash = line.IndexOf('#', StringComparison.Ordinal);
        return (hash >= 0 ? line[..hash] : line).Trim();
    }
}
