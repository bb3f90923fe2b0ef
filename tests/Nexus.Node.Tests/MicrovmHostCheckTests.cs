// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Functions;
using Nexus.Node.Registry;
using Nexus.Sandbox;
using Nexus.Sandbox.Microvm;

namespace Nexus.Node.Tests;

/// <summary>
/// A host without KVM refuses microvm functions when they are deployed, and microvm instances before any VMM, snapshot
/// or network is made, saying why.
/// </summary>
public sealed class MicrovmHostCheckTests
{
    [Fact]
    public void Node_json_says_whether_the_microvm_kernel_is_linux_or_a_freestanding_guest()
    {
        var home = Directory.CreateTempSubdirectory("nexus-microvm-guest-kind-").FullName;
        try
        {
            NodeOptions Load(string json)
            {
                File.WriteAllText(Path.Combine(home, "node.json"), json);
                return NodeOptions.Load(environment: new Dictionary<string, string?> { ["NEXUS_HOME"] = home });
            }

            Assert.Equal(MicrovmGuestKind.Linux, NexusNode.MicrovmOptions(Load("""{"microvmKernel": "/k/vmlinux"}""")).GuestKind);
            Assert.Equal(MicrovmGuestKind.Freestanding, NexusNode.MicrovmOptions(Load("""{"microvmKernel": "/g.elf", "microvmGuest": "freestanding"}""")).GuestKind);
            var error = Assert.Throws<InvalidDataException>(() => Load("""{"microvmGuest": "windows"}"""));
            Assert.Contains("microvmGuest: 'windows' is not a kind of guest (known: linux, freestanding)", error.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

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

    [Fact]
    public async Task A_host_without_its_kvm_device_refuses_to_deploy_a_microvm_function_and_keeps_others()
    {
        var run = Directory.CreateTempSubdirectory("nexus-microvm-nokvm-deploy-").FullName;
        var kernel = Path.Combine(run, "guest.elf");
        await File.WriteAllBytesAsync(kernel, [0x7f, (byte)'E', (byte)'L', (byte)'F']);
        try
        {
            await using var drivers = new SandboxDriverSet("fake", [new FakeDriver(), new MicrovmSandboxDriver(new MicrovmDriverOptions
            {
                GuestKernel = kernel,
                RunDirectory = run,
                KvmDevice = Path.Combine(run, "no-kvm-here"),
            })]);
            var functions = Path.Combine(run, "functions");
            var registry = new FunctionRegistry(functions, whyHostCannotRun: drivers.WhyHostCannotRun);

            var error = Assert.Throws<ManifestException>(() => registry.Deploy(new MemoryStream(FunctionPackages.Zip(
                ("function.yaml", "name: in-a-vm\nhandler: handler.handler\nsandbox: microvm\n"), ("handler.py", "def handler(e, c):\n    return e\n")))));

            Assert.StartsWith("function.yaml: sandbox: microvm: this host has no " + Path.Combine(run, "no-kvm-here"), error.Message, StringComparison.Ordinal);
            Assert.Contains("deploy it with sandbox: oci", error.Message, StringComparison.Ordinal);
            Assert.False(registry.TryGet("in-a-vm", out _));
            Assert.Empty(Directory.EnumerateFileSystemEntries(functions));

            // The node's default sandbox is not refused, nor is anything with a KVM device present.
            registry.Deploy(new MemoryStream(FunctionPackages.Zip(("function.yaml", "name: plain\nhandler: handler.handler\n"), ("handler.py", "def handler(e, c):\n    return e\n"))));
            Assert.True(registry.TryGet("plain", out _));
            await using var withKvm = new MicrovmSandboxDriver(new MicrovmDriverOptions { GuestKernel = kernel, RunDirectory = run, KvmDevice = kernel });
            Assert.Null(withKvm.WhyHostCannotRun(null));
        }
        finally
        {
            Directory.Delete(run, recursive: true);
        }
    }
}
