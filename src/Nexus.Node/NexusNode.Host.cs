// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Sandbox;
using Nexus.Sandbox.Microvm;
using Nexus.Sandbox.Oci;
using Nexus.Sandbox.Template;

namespace Nexus.Node;

/// <summary>What the node sets up on its host: its CPU weight and thread slices, and the sandbox drivers it starts with.</summary>
public sealed partial class NexusNode
{
    // Before the driver starts anything: helpers spawned from here on inherit the node's weight (docs/node.md#cpu).
    private void EnterCpuGroup(IProgress<string>? progress)
    {
        if (_options.NodeCpuShares == 0)
        {
            return;
        }

        try
        {
            _cpuGroup = NodeCpuGroup.Enter(new OciDriverOptions().CgroupRoot, NodeCpuGroup.DefaultName, _options.NodeCpuShares);
            progress?.Report($"node threads in cpu cgroup {_cpuGroup.Directory} (cpu.shares {_options.NodeCpuShares})");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The node runs without it, as before: its threads compete with the instances' parent as one equal.
            Console.Error.WriteLine($"nexus: the node's CPU weight is not set: {e.Message}");
        }
    }

    // A waking node thread preempts a running tenant at once (docs/node.md#cpu); nothing started from here inherits it.
    private void SetThreadSlices(IProgress<string>? progress)
    {
        if (_options.NodeThreadSliceMicroseconds == 0)
        {
            return;
        }

        try
        {
            _threadSlices = new NodeThreadSlices(_options.NodeThreadSliceMicroseconds * 1000);
            progress?.Report($"node threads at a {_options.NodeThreadSliceMicroseconds} us scheduler slice");
        }
        catch (UnixException e)
        {
            // A kernel before 6.12 takes the request and ignores it; one that refuses it leaves the node as it was.
            Console.Error.WriteLine($"nexus: the node's thread slices are not set: {e.Message}");
        }
    }

    // runc containers (nexus-mode instances forked from a per-function template unless the node is told not to) and
    // microVMs; a function's `sandbox:` picks one, the node's Driver is the default.
    private ISandboxDriver DefaultDriver()
    {
        var oci = new OciSandboxDriver(new OciDriverOptions { RuntimePath = _options.OciRuntime, InstancePrefix = InstancePrefix });
        ISandboxDriver containers = _options.Templates
            ? new TemplateSandboxDriver(oci, new TemplateDriverOptions
            {
                InstancePrefix = InstancePrefix,

                // A template's load is an instance's init: held to the same limit.
                ReadyTimeout = TimeSpan.FromSeconds(_options.InitTimeoutSeconds),
                Log = line => Console.Error.WriteLine("nexus: " + line),
            })
            : oci;
        return new SandboxDriverSet(_options.Driver, [containers, new MicrovmSandboxDriver(MicrovmOptions(_options))]);
    }

    /// <summary>The microvm driver's settings from the node's.</summary>
    public static MicrovmDriverOptions MicrovmOptions(NodeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new MicrovmDriverOptions
        {
            GuestKernel = options.MicrovmKernel,
            GuestKind = options.MicrovmGuest == "freestanding" ? MicrovmGuestKind.Freestanding : MicrovmGuestKind.Linux,
            VmmCommand = options.MicrovmVmm is { } vmm ? [vmm] : [],
            Snapshots = options.MicrovmSnapshots,
            Jail = options.MicrovmJail ? new VmmJailOptions() : null,
            InstancePrefix = InstancePrefix,
            Log = line => Console.Error.WriteLine("nexus: " + line),
        };
    }
}
