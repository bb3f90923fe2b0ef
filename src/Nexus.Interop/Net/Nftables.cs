// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Interop;

/// <summary>
/// Runs nftables commands in-process through libnftables (what the <c>nft</c> tool is built on), in the network
/// namespace of the calling thread: its netlink socket is made when the context is, so a thread that joined another
/// namespace (<see cref="NetNamespace.RunIn{T}"/>) configures that one, without spawning <c>ip netns exec nft</c>.
/// </summary>
public static partial class Nftables
{
    private const string LibraryName = "libnftables.so.1";

    // nft_ctx_new's flags: NFT_CTX_DEFAULT.
    private const uint ContextDefault = 0;

    /// <summary>Runs <paramref name="commands"/> (nft's script syntax) as one transaction; throws with nft's error text.</summary>
    public static void Run(string commands)
    {
        ArgumentNullException.ThrowIfNull(commands);
        using var context = nft_ctx_new(ContextDefault);
        if (context.IsInvalid)
        {
            throw new IOException("libnftables could not make a context (nft_ctx_new)");
        }

        // Errors go to a buffer read below, not to the process's stderr.
        nft_ctx_buffer_error(context);
        nft_ctx_buffer_output(context);
        if (nft_run_cmd_from_buffer(context, commands) != 0)
        {
            var error = Marshal.PtrToStringUTF8(nft_ctx_get_error_buffer(context))?.Trim();
            throw new IOException($"nftables refused the ruleset: {(string.IsNullOrEmpty(error) ? "no message" : error)}");
        }
    }

    [LibraryImport(LibraryName)]
    private static partial NftContextHandle nft_ctx_new(uint flags);

    [LibraryImport(LibraryName)]
    private static partial void nft_ctx_free(nint context);

    [LibraryImport(LibraryName)]
    private static partial int nft_ctx_buffer_error(NftContextHandle context);

    [LibraryImport(LibraryName)]
    private static partial int nft_ctx_buffer_output(NftContextHandle context);

    [LibraryImport(LibraryName)]
    private static partial nint nft_ctx_get_error_buffer(NftContextHandle context);

    [LibraryImport(LibraryName, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int nft_run_cmd_from_buffer(NftContextHandle context, string buffer);

    /// <summary>An nft_ctx, freed with nft_ctx_free (which also frees its buffers and closes its netlink socket).</summary>
    private sealed class NftContextHandle : SafeHandle
    {
        public NftContextHandle()
            : base(nint.Zero, ownsHandle: true)
        {
        }

        public override bool IsInvalid => handle == nint.Zero;

        protected override bool ReleaseHandle()
        {
            nft_ctx_free(handle);
            return true;
        }
    }
}
