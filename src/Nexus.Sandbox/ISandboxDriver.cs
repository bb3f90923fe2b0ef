// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;

namespace Nexus.Sandbox;

/// <summary>
/// Starts isolated function instances. One implementation per isolation technology
/// (<c>oci</c> with runc today, <c>microvm</c> later); the node only sees this interface.
/// </summary>
public interface ISandboxDriver
{
    /// <summary>Driver name as configured ("oci", "microvm").</summary>
    string Name { get; }

    /// <summary>
    /// Prepares host-wide state once per node start (e.g. the service address sandboxes reach the node on)
    /// and removes every leftover of an earlier node that crashed: containers, cgroups, namespaces, links.
    /// </summary>
    Task PrepareHostAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Once the node's services are bound: lets sandboxes reach only these TCP ports on the service address and, when
    /// given, <paramref name="routedEndpoint"/> (a remote store) through the host, and nothing else on the host or
    /// beyond. Drivers whose sandboxes have no host network need do nothing.
    /// </summary>
    Task RestrictSandboxTrafficAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// When the node stops, after its instances: removes the host-wide state <see cref="PrepareHostAsync"/> made (the
    /// service link, the firewall), so that a stopped node leaves the host as it found it.
    /// </summary>
    Task ReleaseHostAsync() => Task.CompletedTask;

    /// <summary>
    /// No instance will start with <paramref name="templateKey"/> (<see cref="SandboxSpec.TemplateKey"/>) again: its
    /// revision was retired. A driver that keeps something per key (a fork template) gives it back once the key's last
    /// instance is gone, instead of after its keep-alive.
    /// </summary>
    void ReleaseTemplate(string templateKey)
    {
    }

    /// <summary>
    /// Memory and CPU of what the driver runs besides instances on behalf of several of them (fork templates): node
    /// memory and CPU too, though no instance's figures hold it. None by default.
    /// </summary>
    IReadOnlyList<TemplateUsage> ReadTemplateUsage() => [];

    /// <summary>
    /// Null when this host can start instances of the sandbox a manifest names (<paramref name="sandbox"/>, null for the
    /// node's default); otherwise why it cannot, in words for the deploy's error, so that a function the host cannot run
    /// is refused when it is deployed rather than on every invocation.
    /// </summary>
    string? WhyHostCannotRun(string? sandbox) => null;

    /// <summary>Starts one instance; it runs <see cref="SandboxSpec.Command"/> until stopped or it exits.</summary>
    Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken);
}
