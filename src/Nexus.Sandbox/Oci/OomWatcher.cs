// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Globalization;
using Nexus.Interop;

namespace Nexus.Sandbox.Oci;

/// <summary>
/// Stops an instance that reaches its memory limit in place of the kernel's OOM killer (cgroup v1). The kernel's kill
/// prints a report under its OOM lock and then an error line to the console; on this machine's serial console that
/// line alone holds the CPU with interrupts off for 3-9 ms, where a neighbour's wake-up waits (docs/reliability.md,
/// "memory-hog"). With <c>memory.oom_control</c> set to 1 the kernel prints nothing: a task at the limit sleeps
/// (killable) at the end of its page fault, the cgroup's OOM event fires an eventfd, and one thread for the whole node
/// kills every process of that cgroup. The instance then ends as an OOM kill would, and is reported as one.
/// </summary>
public sealed class OomWatcher
{
    private const int SIGKILL = 9;

    private static readonly Lazy<OomWatcher> s_shared = new(() => new OomWatcher());

    private readonly FdPoller _poller = new();
    private readonly ConcurrentDictionary<ulong, Registration> _watched = new();
    private long _nextToken;

    private OomWatcher()
    {
        new Thread(Loop) { IsBackground = true, Name = "nexus-oom" }.Start();
    }

    /// <summary>The node's one watcher (its thread lives as long as the process).</summary>
    public static OomWatcher Shared => s_shared.Value;

    /// <summary>
    /// Turns the kernel's OOM killer off for the memory cgroup at <paramref name="memoryDirectory"/> and watches it: once
    /// a task there waits at the limit, <paramref name="onOutOfMemory"/> runs, then every process of the cgroup is killed.
    /// Disposing the result stops watching (before the cgroup is removed: its removal also signals the eventfd).
    /// Throws when the cgroup is gone or refuses the writes.
    /// </summary>
    public IDisposable Watch(string memoryDirectory, Action onOutOfMemory)
    {
        var control = Path.Combine(memoryDirectory, "memory.oom_control");
        File.WriteAllText(control, "1");
        var eventFd = EventFd.Create(flags: EventFdFlags.CloseOnExec | EventFdFlags.NonBlocking);
        try
        {
            // The kernel keeps the eventfd, not the control file's descriptor: it may close once registered.
            using (var file = File.OpenHandle(control, FileMode.Open, FileAccess.Read))
            {
                File.WriteAllText(Path.Combine(memoryDirectory, "cgroup.event_control"), string.Create(CultureInfo.InvariantCulture, $"{eventFd.Handle.Fd} {file.DangerousGetHandle()}"));
            }

            var registration = new Registration(this, (ulong)Interlocked.Increment(ref _nextToken), memoryDirectory, eventFd, onOutOfMemory);
            _watched[registration.Token] = registration;

            // A task already at the limit when this registers signals the eventfd at once (the kernel checks under_oom).
            _poller.Add(eventFd.Handle, registration.Token);
            return registration;
        }
        catch
        {
            eventFd.Dispose();
            throw;
        }
    }

    /// <summary>True while a task of the cgroup waits at its limit (<c>under_oom 1</c> in memory.oom_control).</summary>
    private static bool UnderOom(string memoryDirectory)
    {
        try
        {
            return File.ReadAllLines(Path.Combine(memoryDirectory, "memory.oom_control")).Contains("under_oom 1", StringComparer.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    private void Loop()
    {
        Span<ulong> ready = stackalloc ulong[64];
        while (true)
        {
            var n = _poller.Wait(ready, -1);
            for (var i = 0; i < n; i++)
            {
                if (!_watched.TryGetValue(ready[i], out var registration))
                {
                    continue;
                }

                try
                {
                    registration.OnSignal();
                }
                catch (Exception e) when (e is ObjectDisposedException or UnixException)
                {
                    // Disposed while it fired: the instance is being stopped anyway.
                }
            }
        }
    }

    private sealed class Registration(OomWatcher owner, ulong token, string memoryDirectory, EventFd eventFd, Action onOutOfMemory) : IDisposable
    {
        private int _disposed;

        public ulong Token { get; } = token;

        public void OnSignal()
        {
            if (!eventFd.TryRead(out _) || !UnderOom(memoryDirectory))
            {
                return;
            }

            onOutOfMemory();
            try
            {
                foreach (var line in File.ReadAllLines(Path.Combine(memoryDirectory, "cgroup.procs")))
                {
                    if (int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    {
                        ChildProcess.Kill(pid, SIGKILL);
                    }
                }
            }
            catch (IOException)
            {
                // The cgroup went away meanwhile: its processes are gone with it.
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) != 0)
            {
                return;
            }

            owner._watched.TryRemove(Token, out _);
            owner._poller.Remove(eventFd.Handle);
            eventFd.Dispose();
        }
    }
}
