// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;

namespace Nexus.Sandbox;

/// <summary>
/// The node's drivers by name: each instance goes to the driver its spec names (<see cref="SandboxSpec.Driver"/>, from
/// the function's <c>sandbox:</c>), or to the default one. Host preparation and release go to every driver.
/// </summary>
public sealed class SandboxDriverSet : ISandboxDriver, IAsyncDisposable
{
    private readonly Dictionary<string, ISandboxDriver> _drivers;
    private readonly ISandboxDriver _default;

    public SandboxDriverSet(string defaultDriver, IEnumerable<ISandboxDriver> drivers)
    {
        _drivers = drivers.ToDictionary(d => d.Name, StringComparer.Ordinal);
        _default = _drivers.GetValueOrDefault(defaultDriver)
            ?? throw new ArgumentException($"default sandbox driver '{defaultDriver}' is not one of {string.Join(", ", _drivers.Keys)}", nameof(defaultDriver));
    }

    /// <summary>The default driver's name (what a function without <c>sandbox:</c> runs in).</summary>
    public string Name => _default.Name;

    public IReadOnlyCollection<string> Names => _drivers.Keys;

    public async Task PrepareHostAsync(CancellationToken cancellationToken)
    {
        foreach (var driver in _drivers.Values)
        {
            await driver.PrepareHostAsync(cancellationToken);
        }
    }

    public async Task RestrictSandboxTrafficAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken)
    {
        foreach (var driver in _drivers.Values)
        {
            await driver.RestrictSandboxTrafficAsync(serviceTcpPorts, routedEndpoint, cancellationToken);
        }
    }

    public async Task ReleaseHostAsync()
    {
        foreach (var driver in _drivers.Values)
        {
            await driver.ReleaseHostAsync();
        }
    }

    public IReadOnlyList<TemplateUsage> ReadTemplateUsage() => [.. _drivers.Values.SelectMany(d => d.ReadTemplateUsage())];

    public void ReleaseTemplate(string templateKey)
    {
        foreach (var driver in _drivers.Values)
        {
            driver.ReleaseTemplate(templateKey);
        }
    }

    public string? WhyHostCannotRun(string? sandbox) =>
        sandbox is null ? _default.WhyHostCannotRun(null)
        : _drivers.TryGetValue(sandbox, out var driver) ? driver.WhyHostCannotRun(null)
        : $"this node does not run sandbox '{sandbox}' (available: {string.Join(", ", _drivers.Keys)})";

    public Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Driver is null)
        {
            return _default.StartAsync(spec, cancellationToken);
        }

        return _drivers.TryGetValue(spec.Driver, out var driver)
            ? driver.StartAsync(spec, cancellationToken)
            : throw new ArgumentException($"instance '{spec.InstanceId}' asks for sandbox '{spec.Driver}', which this node does not run (available: {string.Join(", ", _drivers.Keys)})", nameof(spec));
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var driver in _drivers.Values.OfType<IAsyncDisposable>())
        {
            await driver.DisposeAsync();
        }
    }
}
