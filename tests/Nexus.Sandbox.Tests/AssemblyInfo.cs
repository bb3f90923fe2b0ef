// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.Versioning;

// The integration tests share runc's state root, cgroups and the host's sandbox network: one at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
[assembly: SupportedOSPlatform("linux")]
