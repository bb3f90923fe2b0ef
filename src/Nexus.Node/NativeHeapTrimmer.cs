// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;

namespace Nexus.Node;

/// <summary>
/// Gives the node process's free native heap back to the kernel at a fixed interval (<see cref="NativeHeap.Trim"/>).
/// Why: glibc keeps what is freed in its arenas, and the JIT's peaks stay resident after it is done. Compiling the AWS
/// SDK's S3 endpoint rules (one generated method, 100 KB of machine code) took ~15 MiB of JIT scratch memory at the
/// node's first storage request, and malloc held ~25 MiB of arena memory with ~7 MiB in use for the rest of the
/// node's life (docs/evaluation.md, "The node process's own memory").
/// </summary>
public sealed class NativeHeapTrimmer : IDisposable
{
    private readonly Timer _timer;
    private long _trims;

    public NativeHeapTrimmer(TimeSpan interval)
    {
        _timer = new Timer(_ => TrimNow(), null, interval, interval);
    }

    /// <summary>Trims that gave memory back so far.</summary>
    public long Trims => Interlocked.Read(ref _trims);

    public void Dispose() => _timer.Dispose();

    private void TrimNow()
    {
        if (NativeHeap.Trim())
        {
            Interlocked.Increment(ref _trims);
        }
    }
}
