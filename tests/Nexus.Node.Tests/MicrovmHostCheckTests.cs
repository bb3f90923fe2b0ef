// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Sandbox;
using Nexus.Sandbox.Microvm;

namespace Nexus.Node.Tests;

/// <summary>A host without KVM refuses microvm instances before any VMM, snapshot or network is made, saying why.</summary>
public sealed class MicrovmHostCheckTests
{
    [Fact]
    public async Task A_host_without_its_kvm_device_refuses_microvm_instances_and_says_so()
    {
        var run = Directory.CreateTempSubdirectory("nexus-microvm-nokvm-").FullName;
        var kernel = Path.Combine(run, "guest.elf");
        await File.WriteAllBytesAsync(kernel, [0x7f, (byte)'E', (byte)'L', (byte)'F']);
        try
        {
            await using var driver = new MicrovmSandboxDriver(new MicrovmDriverOptions
            {
                GuestKernel = kernel,
                RunDirectory = run,
                KvmDevice = Path.Combine(run, "no-kvm-here"),
            });
            var spec = MicrovmDriverTests.GuestSpec("nx-nokvm", []) with { Network = SandboxNetwork.Veth };

            var error = await Assert.ThrowsAsync<ArgumentException>(() => driver.StartAsync(spec, CancellationToken.None));

            Assert.Contains("instance 'nx-nokvm' (sandbox: microvm): this host has no " + Path.Combine(run, "no-kvm-here"), error.Message, StringComparison.Ordinal);
            Assert.Contains("sandbox: oci", error.Message, StringComparison.Ordinal);
            Assert.False(Directory.Exists(Path.Combine(run, "instances", "nx-nokvm")), "an instance folder was made for a VM that cannot run");
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }
}
