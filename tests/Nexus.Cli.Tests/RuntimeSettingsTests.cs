// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Nodes;
using Nexus.Testing;

namespace Nexus.Cli.Tests;

/// <summary>The runtime settings the node process starts with (nexus.runtimeconfig.json beside nexus.dll).</summary>
public sealed class RuntimeSettingsTests
{
    [Fact]
    public void Idle_thread_pool_workers_spin_ten_rounds_before_they_sleep()
    {
        // `dotnet nexus.dll` hands these properties to the runtime, which reads the spin limit when its thread pool starts
        // (docs/node.md, "The thread pool's spin"; the measurements behind the value: docs/evaluation.md).
        var config = Path.ChangeExtension(NexusCli.Dll, ".runtimeconfig.json");
        var properties = JsonNode.Parse(File.ReadAllText(config))?["runtimeOptions"]?["configProperties"];
        Assert.NotNull(properties);
        Assert.Equal(10, properties["System.Threading.ThreadPool.UnfairSemaphoreSpinLimit"]?.GetValue<int>());
    }
}
