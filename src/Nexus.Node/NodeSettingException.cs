// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node;

/// <summary>A node setting out of range: <see cref="Setting"/> as node.json spells it (dotted below the top level), and why.</summary>
public sealed class NodeSettingException(string setting, string problem) : ArgumentException($"node setting {setting}: {problem}")
{
    public string Setting { get; } = setting;

    public string Problem { get; } = problem;
}
