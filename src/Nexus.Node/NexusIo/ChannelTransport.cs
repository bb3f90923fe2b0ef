// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Nexus.Backend;
using Nexus.Channel;
using Nexus.Functions;
using Nexus.Node.Invocations;
using Nexus.Sandbox;
using BackendResult = Nexus.Backend.InvocationResult;
using NodeResult = Nexus.Node.Invocations.InvocationResult;

namespace Nexus.Node.NexusIo;

/// <summary>
/// Nexus-mode transport of one instance: a shared-memory channel (memfd + two eventfds passed as fd 3, 4, 5)
/// served by the node's one backend, which carries both the function's storage calls and its invocations.
/// </summary>
public sealed class ChannelTransport : IInvocationTransport
{
    private readonly HostChannel _channel;
    private readonly InstanceSession _session;

    public ChannelTransport(NexusBackend backend, FunctionManifest manifest, string instanceId)
    {
        _channel = new HostChannel(name: "nexus-" + instanceId);
        PassedFds = [.. _channel.SandboxFds.OrderBy(f => f.Target).Select(f => (SafeHandle)f.Source)];

        // Attached before the sandbox starts, so that inputs can be prefetched into its region meanwhile; the session
        // just waits for the sandbox's first doorbell.
        _session = backend.Attach(_channel, manifest);
    }

    public SandboxNetwork Network => SandboxNetwork.LoopbackOnly;

    public IReadOnlyDictionary<string, string> Environment => _channel.SandboxEnvironment;

    public IReadOnlyList<SafeHandle> PassedFds { get; }

    // The channel has no separate "ready" signal: the invocation is queued and taken by the runtime's first
    // NextInvocation once its init is done; an init error answers it.
    public Task Ready => Task.CompletedTask;

    public NodeResult? InitError { get; private set; }

    public Task AttachAsync(ISandboxInstance instance, CancellationToken cancellationToken) => Task.CompletedTask;

    public void BeginPrefetch(ReadOnlyMemory<byte> payload) => _session.BeginPrefetch(payload.Span);

    public async Task<NodeResult> InvokeAsync(Invocation invocation, CancellationToken cancellationToken)
    {
        BackendResult result = await _session.InvokeAsync(invocation.RequestId, invocation.Payload, invocation.Deadline, cancellationToken);
        var mapped = new NodeResult(result.Payload, result.Status == InvocationStatus.Success ? null : result.ErrorType ?? "Unhandled");
        if (result.Status == InvocationStatus.InitError)
        {
            InitError = mapped;
        }

        return mapped;
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        _channel.Dispose();
    }
}

/// <summary>Makes a <see cref="ChannelTransport"/> per nexus-mode instance.</summary>
public sealed class ChannelTransportFactory(NexusBackend backend) : IInvocationTransportFactory
{
    public IoMode Mode => IoMode.Nexus;

    public Task<IInvocationTransport> CreateAsync(DeployedFunction function, string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult<IInvocationTransport>(new ChannelTransport(backend, function.Manifest, instanceId));
}
