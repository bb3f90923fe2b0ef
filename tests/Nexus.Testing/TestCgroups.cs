// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Testing;

/// <summary>Cleanup of the per-test cgroup parents that jail tests create under each v1 controller.</summary>
public static class TestCgroups
{
    /// <summary>Removes <paramref name="parent"/> under the memory, pids and cpu controllers where it exists (it must be empty).</summary>
    public static void RemoveParent(string parent)
    {
        foreach (var controller in new[] { "memory", "pids", "cpu" })
        {
            var directory = Path.Combine("/sys/fs/cgroup", controller, parent);
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory);
            }
        }
    }
}
