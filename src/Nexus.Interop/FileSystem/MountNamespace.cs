// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop.Process;

namespace Nexus.Interop.FileSystem;

/// <summary>
/// Works inside another process's mount namespace without spawning a process: a dedicated thread takes a filesystem
/// context of its own (unshare CLONE_FS, which setns into a mount namespace requires of a thread), joins the namespace
/// (its root and working directory become that namespace's root) and ends after the work, so no other work ever runs
/// with that view. The work should make system calls only (<see cref="Mounts"/>): the runtime loading a file on that
/// thread would look for it in the other namespace's tree.
/// </summary>
public static partial class MountNamespace
{
    private const int CLONE_FS = 0x00000200;
    private const int CLONE_NEWNS = 0x00020000;

    /// <summary>Opens the mount namespace of process <paramref name="pid"/> (kept alive by the handle, whatever the process does).</summary>
    public static SafeFileHandle Open(int pid) => File.OpenHandle($"/proc/{pid}/ns/mnt", FileMode.Open, FileAccess.Read);

    /// <summary>
    /// Runs <paramref name="work"/> on a thread of its own joined to <paramref name="mountNamespace"/> (never the
    /// caller's own namespace: that is refused), and returns when it has finished.
    /// </summary>
    public static void RunIn(SafeFileHandle mountNamespace, Action work)
    {
        ArgumentNullException.ThrowIfNull(mountNamespace);
        ArgumentNullException.ThrowIfNull(work);
        var own = File.ResolveLinkTarget("/proc/thread-self/ns/mnt", returnFinalTarget: false)?.Name;
        if (own is not null && own == NameOf(mountNamespace))
        {
            throw new InvalidOperationException("the mount namespace given is the node's own");
        }

        OneShotThread.Run("nexus-mntns", () =>
        {
            Libc.Check(Unshare(CLONE_FS), "unshare(CLONE_FS)");
            Libc.Check(SetNs(mountNamespace, CLONE_NEWNS), "setns(CLONE_NEWNS)");
            work();
            return true;
        });
    }

    // "mnt:[4026532xxx]", as /proc/<pid>/ns/mnt reads: the namespace's identity.
    private static string? NameOf(SafeFileHandle handle)
    {
        var added = false;
        try
        {
            handle.DangerousAddRef(ref added);
            return File.ResolveLinkTarget($"/proc/self/fd/{handle.DangerousGetHandle()}", returnFinalTarget: false)?.Name;
        }
        finally
        {
            if (added)
            {
                handle.DangerousRelease();
            }
        }
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "unshare", SetLastError = true)]
    private static partial int Unshare(int flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "setns", SetLastError = true)]
    private static partial int SetNs(SafeFileHandle fd, int nstype);
}
