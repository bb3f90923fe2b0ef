// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// A thread's EEVDF slice request (Linux 6.12 and later: <c>sched_attr.sched_runtime</c> of a SCHED_OTHER task, which
/// the kernel clamps to 0.1-100 ms). A waking task with a shorter slice than the running one's ends that one's protected
/// run at once (the kernel's PREEMPT_SHORT) instead of waiting behind it. glibc 2.36 has no wrapper: raw syscalls.
/// </summary>
public static unsafe partial class ThreadSlice
{
    /// <summary>The kernel's shortest slice request (<c>NSEC_PER_MSEC/10</c>); shorter requests are raised to it.</summary>
    public const long MinNanoseconds = 100_000;

    /// <summary>The kernel's longest slice request (<c>NSEC_PER_MSEC*100</c>).</summary>
    public const long MaxNanoseconds = 100_000_000;

    private const long SysSchedSetattr = 314;
    private const long SysSchedGetattr = 315;
    private const int SchedOther = 0;
    private const ulong SchedFlagResetOnFork = 0x01;

    /// <summary>
    /// Gives thread <paramref name="tid"/> (of any process the caller may schedule) the slice request
    /// <paramref name="nanoseconds"/>, keeping its nice value, with reset-on-fork: threads and processes it starts
    /// afterwards get the kernel's default slice, not this one. False when the thread is not SCHED_OTHER (left as it is)
    /// or has ended.
    /// </summary>
    public static bool Set(int tid, long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nanoseconds, MinNanoseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nanoseconds, MaxNanoseconds);
        return Apply(tid, (ulong)nanoseconds, SchedFlagResetOnFork);
    }

    /// <summary>
    /// Like <see cref="Set"/>, but without reset-on-fork: threads and processes <paramref name="tid"/> starts afterwards
    /// inherit the request (a sandbox's later children run at its slice too).
    /// </summary>
    public static bool SetInherited(int tid, long nanoseconds)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(nanoseconds, MinNanoseconds);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(nanoseconds, MaxNanoseconds);
        return Apply(tid, (ulong)nanoseconds, 0);
    }

    /// <summary>Gives thread <paramref name="tid"/> the kernel's default slice again, without reset-on-fork.</summary>
    public static bool Reset(int tid) => Apply(tid, 0, 0);

    private static bool Apply(int tid, ulong runtime, ulong flags)
    {
        if (!TryGet(tid, out var attr) || attr.Policy != SchedOther)
        {
            return false;
        }

        attr.Size = (uint)sizeof(SchedAttr);
        attr.Flags = flags;
        attr.Runtime = runtime;

        // SAFETY: attr is a whole sched_attr (VER1, 56 bytes) on this stack frame; the kernel reads Size bytes of it.
        if (Syscall(SysSchedSetattr, tid, (nint)(&attr), 0) == -1)
        {
            const int ESRCH = 3;
            var errno = Marshal.GetLastPInvokeError();
            return errno == ESRCH ? false : throw new UnixException("sched_setattr", errno);
        }

        return true;
    }

    /// <summary>
    /// Thread <paramref name="tid"/>'s slice in nanoseconds as the kernel keeps it (its request, or the default slice)
    /// and whether it resets on fork; null when the thread has ended.
    /// </summary>
    public static (long Nanoseconds, bool ResetOnFork)? Get(int tid) =>
        TryGet(tid, out var attr) ? ((long)attr.Runtime, (attr.Flags & SchedFlagResetOnFork) != 0) : null;

    private static bool TryGet(int tid, out SchedAttr attr)
    {
        const int ESRCH = 3;
        attr = default;

        // SAFETY: attr is a whole sched_attr (VER1, 56 bytes) on this stack frame and the kernel writes at most the size passed.
        fixed (SchedAttr* p = &attr)
        {
            if (Syscall(SysSchedGetattr, tid, (nint)p, sizeof(SchedAttr), 0) == -1)
            {
                var errno = Marshal.GetLastPInvokeError();
                return errno == ESRCH ? false : throw new UnixException("sched_getattr", errno);
            }
        }

        return true;
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long tid, nint attr, long flags);

    [LibraryImport(Libc.LibraryName, EntryPoint = "syscall", SetLastError = true)]
    private static partial long Syscall(long number, long tid, nint attr, long size, long flags);

    /// <summary>struct sched_attr, SCHED_ATTR_SIZE_VER1 (with the utilisation clamps).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct SchedAttr
    {
        public uint Size;
        public uint Policy;
        public ulong Flags;
        public int Nice;
        public uint Priority;
        public ulong Runtime;
        public ulong Deadline;
        public ulong Period;
        public uint UtilMin;
        public uint UtilMax;
    }
}
