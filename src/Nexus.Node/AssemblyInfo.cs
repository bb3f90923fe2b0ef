// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

// The node manages Linux namespaces, cgroups and file modes: it runs on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
