// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.Tests;

/// <summary>
/// A model of what a power loss leaves of the journal: a copy of each segment file as it was when its last fdatasync
/// started (the journal's <c>beforeSync</c> hook). Anything written to a segment after that is lost; a segment never
/// synced is not there at all. Only <see cref="Keep"/> and the copy's readers use it, so a test can open the copy as
/// the next start would find the spool.
/// </summary>
internal sealed class PowerLossDisk : IDisposable
{
    private readonly Lock _lock = new();

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("nexus-power-loss-").FullName;

    /// <summary>The journal's <c>beforeSync</c>: copies the segment file as it is now.</summary>
    public void Keep(string segmentPath)
    {
        lock (_lock)
        {
            using var source = new FileStream(segmentPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            using var copy = new FileStream(Path.Combine(Directory, Path.GetFileName(segmentPath)), FileMode.Create, FileAccess.Write);
            source.CopyTo(copy);
        }
    }

    /// <summary>The live records a start after a power loss now would find (keys).</summary>
    public IReadOnlyList<string> LiveKeys()
    {
        lock (_lock)
        {
            return [.. Nexus.Backend.WriteBack.SpoolJournal.Scan(Directory).OrderBy(r => r.Sequence).Select(r => r.Key)];
        }
    }

    /// <summary>A spool directory holding what the power loss left, for a new journal or queue to start on.</summary>
    public string CopyForRestart()
    {
        var restart = System.IO.Directory.CreateTempSubdirectory("nexus-after-power-loss-").FullName;
        lock (_lock)
        {
            foreach (var file in System.IO.Directory.GetFiles(Directory))
            {
                File.Copy(file, Path.Combine(restart, Path.GetFileName(file)));
            }
        }

        return restart;
    }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);
}
