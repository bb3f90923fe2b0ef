// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using Nexus.Node;

namespace Nexus.Cli.Commands;

/// <summary>Options every command takes, and how they become <see cref="NodeOptions"/>.</summary>
public static class CommonOptions
{
    public static Option<string?> Home { get; } = new("--home")
    {
        Description = "node state directory (default: $NEXUS_HOME or /var/lib/nexus)",
        Recursive = true,
    };

    public static NodeOptions Load(ParseResult parse) =>
        NodeOptions.Load(o => parse.GetValue(Home) is { } home ? o with { Home = Path.GetFullPath(home) } : o);
}
