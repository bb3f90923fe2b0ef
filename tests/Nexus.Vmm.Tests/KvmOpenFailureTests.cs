// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Vmm.Tests;

/// <summary>
/// A host whose kernel has kvm_pvm but no /dev/kvm (kvm_pvm declined to bind, e.g. a PVM guest booted without
/// nested_pvm=1) gets an error that says so; every other open failure keeps the plain errno message.
/// </summary>
public sealed class KvmOpenFailureTests
{
    private const int ENOENT = 2;
    private const int EACCES = 13;

    [Fact]
    public void MissingDeviceNextToKvmPvmNamesTheBootParameter()
    {
        var e = Kvm.OpenFailure(Kvm.DevicePath, ENOENT, kvmPvmPresent: true);
        Assert.Equal(ENOENT, e.Errno);
        Assert.StartsWith("open(/dev/kvm) failed: No such file or directory (errno 2): ", e.Message, StringComparison.Ordinal);
        Assert.Contains("nested_pvm=1", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Kvm.DevicePath, ENOENT, false)] // no kvm_pvm: a host without KVM at all
    [InlineData(Kvm.DevicePath, EACCES, true)]  // present but denied
    [InlineData("/tmp/no-such-kvm", ENOENT, true)]
    public void OtherFailuresKeepThePlainMessage(string path, int errno, bool kvmPvmPresent)
    {
        var e = Kvm.OpenFailure(path, errno, kvmPvmPresent);
        Assert.Equal(errno, e.Errno);
        Assert.EndsWith($"(errno {errno})", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("nested_pvm", e.Message, StringComparison.Ordinal);
    }
}
