// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.Tests;

/// <summary>Test classes that start a real node (one per host at a time) run one after another.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class RealNodeCollection
{
    public const string Name = "real node";
}
