// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench;
using Nexus.Testing;

namespace Nexus.Frontend.Tests;

/// <summary>A test that needs dynalite (and Debian's boto3 unless <c>boto3</c> is false); skipped, saying what to install, without them.</summary>
public sealed class DynaliteFactAttribute : FactAttribute
{
    public DynaliteFactAttribute(bool boto3 = true)
    {
        Skip = HostRequirements.Missing(debianBoto3: boto3)
            ?? (File.Exists(Dynalite.CliPath) ? null : $"needs dynalite at {Dynalite.CliPath} (scripts/setup installs it from npm)");
    }
}
