// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>Opens /dev/kvm and reads facts about the host's KVM that the VMM must report.</summary>
public static partial class Kvm
{
    public const string DevicePath = "/dev/kvm";

    /// <summary>Present when the host kernel has kvm_pvm (built in: there is no module file to load).</summary>
    public const string PvmModulePath = "/sys/module/kvm_pvm";

    private const int O_RDWR = 2;
    private const int O_CLOEXEC = 0x80000;
    private const int ENOENT = 2;

    /// <summary>Opens the KVM system device; the error names the path when it is missing or denied.</summary>
    public static SafeFd OpenDevice(string path = DevicePath)
    {
        var fd = Open(path, O_RDWR | O_CLOEXEC);
        if (fd == -1)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw OpenFailure(path, errno, Directory.Exists(PvmModulePath));
        }

        return new SafeFd(fd);
    }

    /// <summary>
    /// The error for a failed open of <paramref name="path"/>. A missing /dev/kvm next to a built-in kvm_pvm means the
    /// module declined to bind (docs/vmm.md, "Where it binds"), which "no such file" alone does not tell.
    /// </summary>
    public static UnixException OpenFailure(string path, int errno, bool kvmPvmPresent) =>
        errno == ENOENT && path == DevicePath && kvmPvmPresent
            ? new UnixException($"open({path})", errno,
                "this host kernel has kvm_pvm, but it registered no /dev/kvm: on a host that is itself a PVM guest it " +
                "binds only with nested_pvm=1 on the kernel command line (`dmesg | grep kvm-pvm` says why it did not)")
            : new UnixException($"open({path})", errno);

    /// <summary>
    /// True when the KVM module is a software implementation (kvm_pvm) or the CPU has no vmx/svm:
    /// every privileged guest instruction is then emulated and Linux guests boot very slowly.
    /// </summary>
    public static bool IsSoftwareOnly()
    {
        if (Directory.Exists("/sys/module/kvm_pvm"))
        {
            return true;
        }

        try
        {
            var flags = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return flags is null || !(flags.Contains(" vmx", StringComparison.Ordinal) || flags.Contains(" svm", StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return true;
        }
    }

    [LibraryImport(Libc.LibraryName, EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);
}
