// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.IO.Compression;
using System.Text;

namespace Nexus.Bench.Hostile;

/// <summary>
/// One hostile function: a real handler that attacks the node from inside its sandbox, the event that starts the
/// attack, and how the node must report it (<see cref="ErrorType"/>, Lambda's errorType; null: the attack ends in a
/// normal result). Deployed by the end-to-end tests that prove each containment and by <c>nexus bench hostile</c>.
/// </summary>
public sealed record HostileTenant(string Name, string Attack, string Manifest, string Handler, string Event, string? ErrorType)
{
    /// <summary>The same function in a microVM (<c>sandbox: microvm</c> added to its manifest).</summary>
    public HostileTenant InMicrovm() => this with { Manifest = Manifest.TrimEnd('\n') + "\nsandbox: microvm\n" };

    /// <summary>The function as a deployable zip (function.yaml, handler.py).</summary>
    public MemoryStream Package()
    {
        var package = new MemoryStream();
        using (var zip = new ZipArchive(package, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, "function.yaml", Manifest);
            Add(zip, "handler.py", Handler);
        }

        package.Position = 0;
        return package;
    }

    private static void Add(ZipArchive zip, string name, string text)
    {
        using var entry = zip.CreateEntry(name).Open();
        entry.Write(Encoding.UTF8.GetBytes(text));
    }
}
