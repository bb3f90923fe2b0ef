// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Nexus.Interop;

/// <summary>
/// A syscall the filter refuses with <paramref name="Errno"/>. With <paramref name="When"/>, only calls whose argument
/// matches are refused (e.g. clone without CLONE_THREAD: a new process); several denials of one syscall add up.
/// </summary>
public sealed record SeccompDenial(string Syscall, int Errno = SeccompDenial.EPERM, SeccompArgument? When = null)
{
    public const int EPERM = 1;
    public const int ENOSYS = 38;
}

/// <summary>Matches a call whose argument <paramref name="Index"/> (from 0), masked with <paramref name="Mask"/>, equals <paramref name="Value"/>.</summary>
public sealed record SeccompArgument(uint Index, ulong Mask, ulong Value);

/// <summary>
/// Per-thread seccomp filters, compiled by libseccomp (Debian libseccomp2, the library runc uses). A filter loaded
/// without TSYNC applies to the calling thread only (and threads it creates), so a VMM can confine its vCPU and
/// device threads while the rest of its process (the .NET runtime's own threads) stays as it is.
/// </summary>
public static partial class Seccomp
{
    private const string Library = "libseccomp.so.2";
    private const uint ActionAllow = 0x7fff_0000;
    private const uint ActionErrno = 0x0005_0000;
    private const int CompareMaskedEqual = 7;
    private const int ResolveError = -1;

    /// <summary>True when libseccomp can be loaded on this host.</summary>
    public static bool IsAvailable => NativeLibrary.TryLoad(Library, out _);

    /// <summary>
    /// Loads a filter on the calling thread: everything allowed except <paramref name="denials"/>. Irreversible for
    /// the thread. Throws <see cref="UnixException"/> naming the failing libseccomp call or unknown syscall.
    /// </summary>
    public static unsafe void ApplyToCurrentThread(IEnumerable<SeccompDenial> denials)
    {
        using var filter = SeccompInit(ActionAllow);
        if (filter.IsInvalid)
        {
            throw new UnixException("seccomp_init", 12);
        }

        foreach (var denial in denials)
        {
            var number = SeccompSyscallResolveName(denial.Syscall);
            if (number == ResolveError)
            {
                throw new ArgumentException($"seccomp: no syscall named {denial.Syscall} on this architecture", nameof(denials));
            }

            var action = ActionErrno | (uint)(denial.Errno & 0xffff);
            int rc;
            if (denial.When is { } when)
            {
                // SAFETY: one comparison on this stack frame; libseccomp copies it.
                var compare = new ScmpArgCmp { Arg = when.Index, Op = CompareMaskedEqual, DatumA = when.Mask, DatumB = when.Value };
                rc = SeccompRuleAddArray(filter, action, number, 1, &compare);
            }
            else
            {
                rc = SeccompRuleAddArray(filter, action, number, 0, null);
            }

            if (rc < 0)
            {
                throw new UnixException($"seccomp_rule_add({denial.Syscall})", -rc);
            }
        }

        var loaded = SeccompLoad(filter);
        if (loaded < 0)
        {
            throw new UnixException("seccomp_load", -loaded);
        }
    }

    /// <summary>The kernel's seccomp mode of a thread of this process (0 none, 2 filter), from /proc.</summary>
    public static int ModeOfThread(int tid)
    {
        foreach (var line in File.ReadLines($"/proc/self/task/{tid}/status"))
        {
            if (line.StartsWith("Seccomp:", StringComparison.Ordinal))
            {
                return int.Parse(line.AsSpan(8).Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return 0;
    }

    /// <summary>The calling thread's kernel thread id.</summary>
    public static int CurrentThreadId() => GetTid();

    [LibraryImport(Library, EntryPoint = "seccomp_init")]
    private static partial SeccompFilterHandle SeccompInit(uint defaultAction);

    [LibraryImport(Library, EntryPoint = "seccomp_rule_add_array")]
    private static unsafe partial int SeccompRuleAddArray(SeccompFilterHandle filter, uint action, int syscall, uint argCount, ScmpArgCmp* args);

    [LibraryImport(Library, EntryPoint = "seccomp_syscall_resolve_name", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SeccompSyscallResolveName(string name);

    [LibraryImport(Library, EntryPoint = "seccomp_load")]
    private static partial int SeccompLoad(SeccompFilterHandle filter);

    [LibraryImport(Library, EntryPoint = "seccomp_release")]
    private static partial void SeccompRelease(nint filter);

    [LibraryImport(Libc.LibraryName, EntryPoint = "gettid")]
    private static partial int GetTid();

    /// <summary>struct scmp_arg_cmp: the argument index, the comparison, two 64-bit data.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct ScmpArgCmp
    {
        public uint Arg;
        public int Op;
        public ulong DatumA;
        public ulong DatumB;
    }

    /// <summary>A libseccomp filter context (scmp_filter_ctx), released with seccomp_release.</summary>
    private sealed class SeccompFilterHandle : SafeHandleZeroOrMinusOneIsInvalid
    {
        public SeccompFilterHandle()
            : base(ownsHandle: true)
        {
        }

        protected override bool ReleaseHandle()
        {
            SeccompRelease(handle);
            return true;
        }
    }
}
