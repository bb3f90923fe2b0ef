// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Xunit;

namespace Nexus.Testing;

/// <summary>Polling for a condition another thread makes true.</summary>
public static class Wait
{
    /// <summary>Polls <paramref name="condition"/> until it holds; fails the test after a minute (a hang guard).</summary>
    public static async Task ForAsync(Func<bool> condition, string what)
    {
        for (var waited = 0; !condition(); waited += 50)
        {
            Assert.True(waited < 60_000, $"timed out waiting for {what}");
            await Task.Delay(50);
        }
    }
}
