// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Vmm.Snapshot;

/// <summary>Everything a snapshot holds except guest memory.</summary>
public sealed class VmState
{
}
