// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>Opens /dev/kvm and reads facts about the host's KVM that the VMM must report.</summary>
public static partial class Kvm
{
    public const string DevicePath = "/dev/kvm";

    private const int O_RDWR = 2;
    private const int O_CLOEXEC = 0x80000;

    /// <summary>Opens the KVM system device; the error names the path when it is missing or denied.</summary>
    public static SafeFd OpenDevice(string path = DevicePath)
    {
        var fd = Open(path, O_RDWR | O_CLOEXEC);
        if (fd == -1)
        {
            var errno = Marshal.GetLastPInvokeError();
            throw new UnixException($"open({path})", errno);
        }

        return new SafeFd(fd);
    }

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
