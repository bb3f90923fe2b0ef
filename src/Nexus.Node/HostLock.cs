// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;

namespace Nexus.Node;

/// <summary>
/// One node per host. The sandbox link, the firewall table, runc's state and the instance names are the host's, and a
/// starting node removes every leftover it finds there (and a failed start removes the link and the table): a second
/// node started beside a running one took the first one's sandboxes and firewall down. The lock is taken before any of
/// that, so a second node refuses with the running one's home before it touches anything. It is an advisory flock
/// (.NET takes one for FileShare.None on Unix) that the kernel drops when its holder dies: a crashed node never leaves
/// the host locked. Its holder's pid and home are written beside it (the lock file itself cannot be read by others).
/// </summary>
public sealed class HostLock : IDisposable
{
    /// <summary>Where nodes of this host take the lock.</summary>
    public const string DefaultPath = "/run/nexus/node.lock";

    private readonly FileStream _lock;
    private readonly string _ownerPath;

    private HostLock(FileStream held, string ownerPath)
    {
        _lock = held;
        _ownerPath = ownerPath;
    }

    /// <summary>Takes the host's lock for the node of <paramref name="home"/>; throws <see cref="InvalidOperationException"/>, naming the holder, when another node has it.</summary>
    public static HostLock Acquire(string path, string home)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var ownerPath = path + ".owner";
        FileStream held;
        try
        {
            held = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException e) when (e is not FileNotFoundException and not DirectoryNotFoundException && File.Exists(path))
        {
            var owner = File.Exists(ownerPath) ? File.ReadAllText(ownerPath).Trim() : "its pid and home unknown";
            var otherHome = owner.Split("home ", 2) is [_, var h] ? h : null;
            throw new InvalidOperationException(
                $"another Nexus node runs on this host ({owner}): one node per host, since the sandbox network, its firewall and the instance names are the host's and a starting node clears them; stop it first (nexus down{(otherHome is null ? "" : " --home " + otherHome)})",
                e);
        }

        File.WriteAllText(ownerPath, string.Create(CultureInfo.InvariantCulture, $"pid {Environment.ProcessId}, home {Path.GetFullPath(home)}"));
        return new HostLock(held, ownerPath);
    }

    public void Dispose()
    {
        File.Delete(_ownerPath);
        _lock.Dispose();
    }
}
