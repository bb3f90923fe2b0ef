// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Interop;
using Nexus.Vmm.VState;

namespace Nexus.Vmm.Arch.X64;

/// <summary>Translates a guest virtual address through the guest's 4-level page tables (diagnostics only).</summary>
public static class PageWalk
{
    private const ulong Present = 1;
    private const ulong LargePage = 0x80;
    private const ulong AddressMask = 0x000f_ffff_ffff_f000;

    /// <summary>The guest-physical address of <paramref name="va"/>, or null when it is not mapped.</summary>
    public static ulong? Translate(GuestMemory memory, KvmSregs sregs, ulong va)
    {
        if ((sregs.Cr0 & 0x8000_0000) == 0)
        {
            return va;
        }

        var table = sregs.Cr3 & AddressMask;
        for (var level = 3; level >= 0; level--)
        {
            var index = (va >> (12 + (9 * level))) & 0x1ff;
            var entryAddress = table + (index * 8);
            if (!memory.IsValid(entryAddress, 8))
            {
                return null;
            }

            var entry = memory.ReadU64(entryAddress);
            if ((entry & Present) == 0)
            {
                return null;
            }

            if (level > 0 && level < 3 && (entry & LargePage) != 0)
            {
                var pageMask = (1UL << (12 + (9 * level))) - 1;
                return (entry & AddressMask & ~pageMask) | (va & pageMask);
            }

            table = entry & AddressMask;
        }

        return table | (va & 0xfff);
    }
}
