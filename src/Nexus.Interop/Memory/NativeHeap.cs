// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

public static partial class Libc
{
    [LibraryImport(LibraryName, EntryPoint = "malloc_trim")]
    internal static partial int MallocTrim(nuint pad);
}

/// <summary>The process's native heap (glibc malloc: the runtime's, the JIT's and native libraries' allocations).</summary>
public static class NativeHeap
{
    /// <summary>
    /// Gives the kernel back every whole free page of every malloc arena (malloc_trim(0)): glibc keeps freed memory in
    /// its arenas, and free() returns only the top of the main arena; a freed block below a live one stays resident.
    /// True when some memory was released.
    /// </summary>
    public static bool Trim() => Libc.MallocTrim(0) == 1;
}
