// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Fuzz.Targets;

namespace Nexus.Fuzz;

/// <summary>The fuzz targets by name (what <c>nexus fuzz &lt;target&gt;</c> accepts).</summary>
public static class FuzzTargets
{
    private static readonly Dictionary<string, Func<IFuzzTarget>> s_targets = new(StringComparer.Ordinal)
    {
        ["channel"] = () => new ChannelTarget(),
        ["virtio"] = () => new VirtioTarget(),
        ["session"] = () => new SessionTarget(),
        ["storage"] = () => new StorageTarget(),
    };

    public static IReadOnlyCollection<string> Names => s_targets.Keys;

    /// <summary>A new instance of target <paramref name="name"/>; throws <see cref="ArgumentException"/> naming the known ones.</summary>
    public static IFuzzTarget Create(string name) =>
        s_targets.TryGetValue(name, out var create)
            ? create()
            : throw new ArgumentException($"no fuzz target '{name}'; targets: {string.Join(", ", s_targets.Keys)}", nameof(name));
}
