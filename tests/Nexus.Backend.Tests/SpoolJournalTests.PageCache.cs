// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using Nexus.Backend.WriteBack;
using Nexus.Testing;

namespace Nexus.Backend.Tests;

/// <summary>How the page cache holds a new segment: single pages, so a small write into it costs one block buffer's walk.</summary>
public sealed partial class SpoolJournalTests
{
    private const int KpfCompoundHead = 15;
    private const int KpfCompoundTail = 16;

    [RootFact(runc: false)]
    public async Task A_new_segment_is_in_the_page_cache_as_single_pages_not_large_folios()
    {
        using var journal = SpoolJournal.Open(_directory).Journal;
        await AppendAsync(journal, "a", "makes the first segment");
        var segment = Assert.Single(Directory.GetFiles(_directory, "*" + SpoolJournal.Extension));

        // The kernel's own page flags (root only): a page of a large folio is a compound page's head or tail.
        var (pages, inLargeFolios) = PagesInLargeFolios(segment, 4 << 20);
        Assert.Equal(4 << 20 >> 12, pages);
        Assert.Equal(0, inLargeFolios);
    }

    /// <summary>Maps the first <paramref name="length"/> bytes of the file and asks /proc/kpageflags about each page behind them.</summary>
    private static (int Pages, int InLargeFolios) PagesInLargeFolios(string path, int length)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var map = MemoryMappedFile.CreateFromFile(file, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
        using var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        using var pagemap = File.OpenHandle("/proc/self/pagemap");
        using var kpageflags = File.OpenHandle("/proc/kpageflags");
        var start = view.SafeMemoryMappedViewHandle.DangerousGetHandle() + (nint)view.PointerOffset;
        var entry = new byte[8];
        int pages = 0, large = 0;
        for (var offset = 0; offset < length; offset += 4096)
        {
            view.ReadByte(offset); // faults the page in
            Assert.Equal(8, RandomAccess.Read(pagemap, entry, (start + offset) / 4096 * 8));
            var pfn = BinaryPrimitives.ReadUInt64LittleEndian(entry) & ((1UL << 55) - 1);
            Assert.NotEqual(0UL, pfn);
            Assert.Equal(8, RandomAccess.Read(kpageflags, entry, (long)pfn * 8));
            var flags = BinaryPrimitives.ReadUInt64LittleEndian(entry);
            pages++;
            large += (flags & ((1UL << KpfCompoundHead) | (1UL << KpfCompoundTail))) != 0 ? 1 : 0;
        }

        return (pages, large);
    }
}
