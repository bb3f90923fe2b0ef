// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node.Registry;

/// <summary>
/// A change of one function under way (<see cref="FunctionRegistry.BeginChangeAsync"/>): while it is held no other
/// deploy, removal or Lambda API update of that function runs. Disposing it ends the change; twice is once.
/// </summary>
public sealed class FunctionChange : IDisposable
{
    private readonly FunctionRegistry _registry;
    private SemaphoreSlim? _gate;

    internal FunctionChange(FunctionRegistry registry, string name, SemaphoreSlim gate)
    {
        _registry = registry;
        Name = name;
        _gate = gate;
    }

    /// <summary>The function being changed.</summary>
    public string Name { get; }

    internal bool IsHeldOn(FunctionRegistry registry, string name) =>
        ReferenceEquals(registry, _registry) && string.Equals(name, Name, StringComparison.Ordinal) && Volatile.Read(ref _gate) is not null;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _gate, null) is { } gate)
        {
            _registry.LeaveGate(Name, gate, held: true);
        }
    }
}
