// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Nexus.Backend;
using Nexus.Backend.Prefetch;
using Nexus.Backend.Storage;
using Nexus.Channel;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Sandbox;

namespace Nexus.Node.Transports.NexusChannel;

/// <summary>
/// Nexus-mode transport of one instance: a shared-memory channel (memfd + two eventfds passed as fd 3, 4, 5) whose
/// session carries two services: the node's invocations and the backend's storage calls.
/// </summary>
public sealed class ChannelTransport : IInvocationTransport
{
    private readonly ProcessChannel _channel;
    private readonly ChannelSession _session;
    private readonly InvocationService _invocations;
    private readonly StorageService _storage;

    public ChannelTransport(ChannelServiceHost host, NexusBackend backend, FunctionManifest manifest, string instanceId)
    {
        _channel = new ProcessChannel(name: "nexus-" + instanceId);
        try
        {
            _session = host.Open(_channel.Host);
            _invocations = new InvocationService(_session, LambdaJson.MaxResponseBytes);
            _storage = backend.Serve(_session, manifest);

            // Served before the sandbox starts, so that inputs can be prefetched into its region meanwhile; the session
            // just waits for the sandbox's first doorbell.
            _session.Start();
        }
        catch
        {
            _channel.Dispose();
            throw;
        }

        PassedFds = [.. _channel.SandboxFds.OrderBy(f => f.Target).Select(f => (SafeHandle)f.Source)];
    }

    public SandboxNetwork Network => SandboxNetwork.LoopbackOnly;

    public IReadOnlyDictionary<string, string> Environment => _channel.SandboxEnvironment;

    public IReadOnlyList<SafeHandle> PassedFds { get; }

    public Task Ready => _invocations.Ready;

    public InvocationResult? InitError => _invocations.InitError;

    public Task AttachAsync(ISandboxInstance instance, CancellationToken cancellationToken) => Task.CompletedTask;

    public void BeginPrefetch(PrefetchHints hints) => _storage.BeginPrefetch(hints);

    public void ReleaseIdleMemory()
    {
        try
        {
            _session.ReleaseFreeSlots();
        }
        catch (ObjectDisposedException)
        {
            // The instance stopped meanwhile: its region is gone with it.
        }
    }

    public async Task<InvocationResult> InvokeAsync(Invocation invocation, CancellationToken cancellationToken)
    {
        try
        {
            return await _invocations.InvokeAsync(invocation, cancellationToken);
        }
        finally
        {
            _storage.EndInvocation();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _session.DisposeAsync();
        _channel.Dispose();
    }
}

/// <summary>Makes a <see cref="ChannelTransport"/> per nexus-mode instance.</summary>
public sealed class ChannelTransportFactory(ChannelServiceHost host, NexusBackend backend) : IInvocationTransportFactory
{
    public IoMode Mode => IoMode.Nexus;

    public Task<IInvocationTransport> CreateAsync(DeployedFunction function, string instanceId, CancellationToken cancellationToken) =>
        Task.FromResult<IInvocationTransport>(new ChannelTransport(host, backend, function.Manifest, instanceId));
}
