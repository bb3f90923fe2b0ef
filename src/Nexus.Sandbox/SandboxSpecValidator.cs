// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.RegularExpressions;

namespace Nexus.Sandbox;

/// <summary>Checks a <see cref="SandboxSpec"/> before any host state is made, naming the field that is wrong.</summary>
public static partial class SandboxSpecValidator
{
    /// <summary>Sandbox paths the driver mounts itself; a bind mount may not cover them.</summary>
    private static readonly string[] s_reserved = ["/", "/proc", "/dev", "/sys", "/tmp"];

    public static void Validate(SandboxSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.InstanceId is null || !InstanceIdPattern().IsMatch(spec.InstanceId))
        {
            throw new ArgumentException($"SandboxSpec.InstanceId '{spec.InstanceId}' must be 1 to 40 characters of [a-z0-9-]", nameof(spec));
        }

        var where = $"instance '{spec.InstanceId}': ";
        if (string.IsNullOrEmpty(spec.RootfsPath) || !Path.IsPathFullyQualified(spec.RootfsPath))
        {
            throw new ArgumentException(where + $"RootfsPath '{spec.RootfsPath}' must be an absolute path", nameof(spec));
        }

        if (!Directory.Exists(spec.RootfsPath))
        {
            throw new ArgumentException(where + $"RootfsPath '{spec.RootfsPath}' is not a directory", nameof(spec));
        }

        if (spec.Command is null || spec.Command.Count == 0 || string.IsNullOrEmpty(spec.Command[0]))
        {
            throw new ArgumentException(where + "Command is empty", nameof(spec));
        }

        if (spec.Command.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
        {
            throw new ArgumentException(where + "Command has a null or NUL-containing argument", nameof(spec));
        }

        if (!spec.WorkingDirectory.StartsWith('/'))
        {
            throw new ArgumentException(where + $"WorkingDirectory '{spec.WorkingDirectory}' must be absolute", nameof(spec));
        }

        foreach (var (name, value) in spec.Environment)
        {
            if (string.IsNullOrEmpty(name) || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal)
                || value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException(where + $"environment variable '{name}' has an invalid name or value (no '=' in names, no NUL anywhere)", nameof(spec));
            }
        }

        foreach (var (hostPath, sandboxPath) in spec.ReadOnlyMounts)
        {
            if (!Path.IsPathFullyQualified(hostPath) || !Path.Exists(hostPath))
            {
                throw new ArgumentException(where + $"read-only mount source '{hostPath}' must be an existing absolute path", nameof(spec));
            }

            if (!sandboxPath.StartsWith('/') || sandboxPath.Split('/').Contains("..")
                || s_reserved.Any(r => sandboxPath.TrimEnd('/') == r.TrimEnd('/') || (r != "/" && sandboxPath.StartsWith(r + "/", StringComparison.Ordinal))))
            {
                throw new ArgumentException(where + $"read-only mount target '{sandboxPath}' must be absolute, without '..', and outside /proc, /dev, /sys, /tmp", nameof(spec));
            }
        }

        if (spec.MemoryMb < 8)
        {
            throw new ArgumentException(where + $"MemoryMb {spec.MemoryMb} is below the 8 MiB minimum", nameof(spec));
        }

        if (!(spec.Cpus > 0) || spec.Cpus > 1024)
        {
            throw new ArgumentException(where + $"Cpus {spec.Cpus} must be in (0, 1024]", nameof(spec));
        }

        if (spec.TmpMb < 1)
        {
            throw new ArgumentException(where + $"TmpMb {spec.TmpMb} must be at least 1", nameof(spec));
        }

        for (var i = 0; i < spec.PassedFds.Count; i++)
        {
            if (spec.PassedFds[i] is null || spec.PassedFds[i].IsInvalid || spec.PassedFds[i].IsClosed)
            {
                throw new ArgumentException(where + $"PassedFds[{i}] (fd {3 + i} in the sandbox) is null, invalid or closed", nameof(spec));
            }
        }
    }

    [GeneratedRegex("^[a-z0-9-]{1,40}$")]
    private static partial Regex InstanceIdPattern();
}
