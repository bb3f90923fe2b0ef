// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using Nexus.Backend.Prefetch;
using Nexus.Functions;
using Nexus.Sandbox;

namespace Nexus.Node.Transports;

/// <summary>
/// How invocations reach one instance's runtime and how its answers come back. Baseline mode uses the Lambda
/// Runtime API over the instance's veth (RuntimeApi/); nexus mode uses the shared-memory channel (NexusChannel/),
/// where invocations are one service of the channel and storage another. The pool only sees this.
/// Lifecycle: created before the sandbox starts (it may contribute environment, descriptors and the network
/// kind), attached once the sandbox runs, then used for one invocation at a time, then disposed.
/// </summary>
public interface IInvocationTransport : IAsyncDisposable
{
    /// <summary>The sandbox network this transport needs.</summary>
    SandboxNetwork Network { get; }

    /// <summary>Environment the runtime needs to find this transport (e.g. AWS_LAMBDA_RUNTIME_API, NEXUS_CHANNEL_FD).</summary>
    IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>Descriptors passed into the sandbox as fd 3, 4, ... (channel memfd, doorbells).</summary>
    IReadOnlyList<SafeHandle> PassedFds { get; }

    /// <summary>
    /// Completes when the runtime's init is over, the same way for every transport: it first asked for work (its
    /// handler is loaded), or it reported an init error (then <see cref="InitError"/> is set). The pool's init timeout
    /// and the REPORT line's Init Duration both end here.
    /// </summary>
    Task Ready { get; }

    /// <summary>The runtime's report of a failed init (import error), once it made one; null otherwise.</summary>
    InvocationResult? InitError { get; }

    /// <summary>Binds the transport to the running sandbox (e.g. its address).</summary>
    Task AttachAsync(ISandboxInstance instance, CancellationToken cancellationToken);

    /// <summary>
    /// Called as soon as an invocation is bound to this instance (before a cold instance's sandbox starts): the
    /// transport may begin fetching the inputs the event names (searched for since the invoke entry). Must not throw or block.
    /// </summary>
    void BeginPrefetch(PrefetchHints hints);

    /// <summary>Hands one invocation to the runtime and completes with its result or error payload.</summary>
    Task<InvocationResult> InvokeAsync(Invocation invocation, CancellationToken cancellationToken);

    /// <summary>
    /// The instance has sat idle for a while: give back memory held only for its invocations (a channel's used response
    /// slots). May run while an invocation is being handed over; must not block or throw.
    /// </summary>
    void ReleaseIdleMemory();
}

/// <summary>Makes the transport of each new instance of a given I/O mode.</summary>
public interface IInvocationTransportFactory
{
    IoMode Mode { get; }

    Task<IInvocationTransport> CreateAsync(DeployedFunction function, string instanceId, CancellationToken cancellationToken);
}
