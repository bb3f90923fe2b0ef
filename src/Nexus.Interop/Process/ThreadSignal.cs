// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// Kicking a thread out of a blocking ioctl (KVM_RUN) with a thread-directed signal that stays
/// blocked outside the ioctl, so no handler ever runs: the ioctl returns EINTR and the pending
/// signal is then drained with sigtimedwait.
/// </summary>
public static unsafe partial class ThreadSignal
{
    /// <summary>
    /// SIGRTMIN+6 on glibc (SIGRTMIN is 34). .NET uses SIGRTMIN itself for activation injection,
    /// so the kick signal must differ from it.
    /// </summary>
    public const int KickSignal = 40;

    private const int SIG_BLOCK = 0;

    // glibc's sigset_t is 1024 bits; the kernel's (and KVM_SET_SIGNAL_MASK's) is its first 64.
    private const int SigsetWords = 16;

    /// <summary>The calling thread's pthread_t, for <see cref="Kick"/>.</summary>
    public static nuint CurrentThread() => PthreadSelf();

    /// <summary>
    /// Blocks <see cref="KickSignal"/> in the calling thread and returns the kernel signal mask
    /// (64 bits) to use while inside KVM_RUN: the thread's mask with the kick signal open.
    /// </summary>
    public static ulong BlockKickSignal()
    {
        var set = stackalloc ulong[SigsetWords];
        var old = stackalloc ulong[SigsetWords];
        set[0] = 1UL << (KickSignal - 1);

        // SAFETY: both buffers are full-size glibc sigset_t on this stack frame.
        var rc = PthreadSigmask(SIG_BLOCK, set, old);
        if (rc != 0)
        {
            throw new UnixException("pthread_sigmask", rc);
        }

        return old[0] & ~(1UL << (KickSignal - 1));
    }

    /// <summary>Sends the kick signal to <paramref name="thread"/>; false when the thread has ended.</summary>
    public static bool Kick(nuint thread)
    {
        const int ESRCH = 3;
        var rc = PthreadKill(thread, KickSignal);
        if (rc == ESRCH)
        {
            return false;
        }

        if (rc != 0)
        {
            throw new UnixException("pthread_kill", rc);
        }

        return true;
    }

    /// <summary>Consumes every pending kick of the calling thread (which must have it blocked).</summary>
    public static void DrainKicks()
    {
        var set = stackalloc ulong[SigsetWords];
        set[0] = 1UL << (KickSignal - 1);
        var zero = stackalloc long[2];

        // SAFETY: set is a full-size sigset_t and zero a timespec {0, 0}, both on this stack frame.
        while (SigTimedWait(set, 0, zero) == KickSignal)
        {
        }
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "pthread_self")]
    private static partial nuint PthreadSelf();

    [LibraryImport(Libc.LibraryName, EntryPoint = "pthread_kill")]
    private static partial int PthreadKill(nuint thread, int signal);

    [LibraryImport(Libc.LibraryName, EntryPoint = "pthread_sigmask")]
    private static partial int PthreadSigmask(int how, ulong* set, ulong* oldSet);

    [LibraryImport(Libc.LibraryName, EntryPoint = "sigtimedwait", SetLastError = true)]
    private static partial int SigTimedWait(ulong* set, nint info, long* timeout);
}
