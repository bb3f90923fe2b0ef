// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Tests;

/// <summary>One node per host (<see cref="HostLock"/>): a second holder is refused with the first one's pid and home.</summary>
public sealed class HostLockTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("nexus-hostlock-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void A_second_node_is_refused_with_the_first_ones_home_until_it_lets_go()
    {
        var path = Path.Combine(_dir, "run", "node.lock");
        using (HostLock.Acquire(path, "/var/lib/first"))
        {
            var refused = Assert.Throws<InvalidOperationException>(() => HostLock.Acquire(path, "/var/lib/second"));
            Assert.Contains($"another Nexus node runs on this host (pid {Environment.ProcessId}, home /var/lib/first)", refused.Message, StringComparison.Ordinal);
            Assert.Contains("stop it first (nexus down --home /var/lib/first)", refused.Message, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(path + ".owner"));
        using (HostLock.Acquire(path, "/var/lib/second"))
        {
            Assert.Equal($"pid {Environment.ProcessId}, home /var/lib/second", File.ReadAllText(path + ".owner"));
        }
    }
}
