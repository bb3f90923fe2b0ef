// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.AspNetCore.Http;
using Nexus.Backend.WriteBack;
using Nexus.Node.Logs;
using Nexus.Node.Pool;
using Nexus.Node.Transports;

namespace Nexus.Node;

/// <summary>Node state as the management API reports it.</summary>
public sealed record NodeStatus(
    string Version,
    DateTimeOffset StartedAt,
    string Driver,
    string? Image,
    IReadOnlyDictionary<string, string> Endpoints,
    int Functions,
    int PendingEvents,
    int WaitingInvocations,
    IReadOnlyList<FunctionPoolStatus> Instances,
    WriteBackStats? WriteBack = null,
    IReadOnlyList<TemplateStatus>? Templates = null);

/// <summary>
/// A running fork template (docs/templates.md): the function revision it forks instances of (null when none the node
/// holds matches its key), whether that is the function's current revision, its live forked instances and its own PSS.
/// </summary>
public sealed record TemplateStatus(string? Function, string? Revision, bool Current, int LiveInstances, long PssBytes);

/// <summary>What the node's HTTP APIs need from the node (a fake in API tests).</summary>
public interface INodeOperations
{
    /// <summary>The refusal code of <see cref="VerifySignature"/> for a key that verified but is not the node's admin key.</summary>
    const string NotAdminKey = "NotAdminKey";

    IReadOnlyCollection<DeployedFunction> Functions { get; }

    FunctionLogs Logs { get; }

    bool TryGetFunction(string name, out DeployedFunction function);

    Task<InvocationOutcome> InvokeAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, InvocationRequest request, CancellationToken cancellationToken);

    /// <summary>Durably queues an asynchronous (Event) invocation; returns once it will not be lost.</summary>
    Task EnqueueEventAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, InvocationRequest request, CancellationToken cancellationToken);

    /// <summary>
    /// Begins a change of the function <paramref name="name"/> (<see cref="Registry.FunctionRegistry.BeginChangeAsync"/>):
    /// a caller that reads a function and then deploys over it holds one across both and passes it to
    /// <see cref="DeployAsync"/>; other deploys and removals of that function wait for it.
    /// </summary>
    Task<Registry.FunctionChange> BeginChangeAsync(string name, CancellationToken cancellationToken);

    /// <summary>
    /// Deploys a zipped function folder (<c>nexus deploy</c>); <paramref name="manifestOf"/> as
    /// <see cref="Registry.FunctionRegistry.Deploy"/> takes it. Installs under <paramref name="change"/> (of the
    /// package's function), or under a change of its own, begun once the package is unpacked.
    /// </summary>
    Task<DeployedFunction> DeployAsync(Stream package, Func<string?, string>? manifestOf, Registry.FunctionChange? change, CancellationToken cancellationToken);

    /// <summary>Removes a function, under a change of it (waiting for one under way); false when there is none.</summary>
    Task<bool> RemoveAsync(string name, CancellationToken cancellationToken);

    NodeStatus Status();

    /// <summary>The node's write-back spool (dead letters: list, re-drive, discard); null when it has none.</summary>
    WriteBackQueue? WriteBack { get; }

    string ScrapeMetrics();

    /// <summary>
    /// Null when the request's SigV4 signature (service lambda) verifies, with the admin key when
    /// <paramref name="adminOnly"/>; else why not (the store's error code, such as InvalidAccessKeyId, and its message;
    /// <see cref="NotAdminKey"/> for another key the node knows: a function's).
    /// </summary>
    (string Code, string Message)? VerifySignature(HttpRequest request, string payloadSha256Hex, bool adminOnly = false);

    /// <summary>True when <paramref name="token"/> is the node's management token (<see cref="KeyPair.ManagementToken"/>).</summary>
    bool IsManagementToken(string? token);

    /// <summary>Makes and checks GetFunction's <c>Code.Location</c> URLs (signed with a key of the node's admin secret).</summary>
    Api.CodeLinks CodeLinks { get; }

    void RequestShutdown();
}
