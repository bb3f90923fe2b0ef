// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Runtime.InteropServices;
using Nexus.Testing;

namespace Nexus.Node.Tests;

/// <summary>
/// The node's native heap trim (<see cref="NativeHeapTrimmer"/>): memory malloc freed but kept in its arena (a freed
/// block below a live one, as the JIT leaves its scratch memory) goes back to the kernel.
/// </summary>
[Collection(ProcessMemoryCollection.Name)]
public sealed class NativeHeapTrimmerTests
{
    private const int BlockBytes = 32 * 1024;
    private const int Blocks = 2048; // 64 MiB

    [Fact]
    public async Task Freed_native_memory_below_a_live_block_leaves_the_process_once_trimmed()
    {
        var blocks = new nint[Blocks];
        try
        {
            // Small blocks come from an arena, not from mmap; the last one, kept, sits above the others and keeps free()
            // from shrinking the arena.
            for (var i = 0; i < Blocks; i++)
            {
                blocks[i] = Allocate(BlockBytes);
            }

            for (var i = 0; i < Blocks - 1; i++)
            {
                Free(ref blocks[i]);
            }

            var held = AnonymousKiB();
            using var trimmer = new NativeHeapTrimmer(TimeSpan.FromMilliseconds(100));
            await Wait.ForAsync(() => trimmer.Trims > 0, "a trim that gave memory back");
            var after = AnonymousKiB();

            // At least three quarters of the 64 MiB freed left (no other test runs meanwhile, but the runtime's own threads
            // may allocate).
            Assert.True(held - after >= 48 * 1024, $"anonymous memory {held} KiB before the trim, {after} KiB after");
        }
        finally
        {
            foreach (ref var block in blocks.AsSpan())
            {
                Free(ref block);
            }
        }
    }

    [Fact]
    public void The_node_trims_by_default() => Assert.True(new NodeOptions().NativeHeapTrimSeconds > 0);

    // Every page written: an untouched block would not be resident in the first place.
    private static unsafe nint Allocate(int bytes)
    {
        // Safe: the block is bytes long, fresh from malloc, and only written within it.
        var block = NativeMemory.Alloc((nuint)bytes);
        new Span<byte>(block, bytes).Fill(1);
        return (nint)block;
    }

    private static unsafe void Free(ref nint block)
    {
        // Safe: block came from Allocate (or is 0, which free ignores) and is zeroed here, so it is freed once.
        NativeMemory.Free((void*)block);
        block = 0;
    }

    private static long AnonymousKiB()
    {
        foreach (var line in File.ReadLines("/proc/self/smaps_rollup"))
        {
            if (line.StartsWith("Anonymous:", StringComparison.Ordinal))
            {
                return long.Parse(line.AsSpan(10).Trim().TrimEnd("kB").Trim(), CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidOperationException("smaps_rollup has no Anonymous line");
    }
}
