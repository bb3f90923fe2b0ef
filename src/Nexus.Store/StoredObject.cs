// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using Microsoft.Win32.SafeHandles;

namespace Nexus.Store;


/// <summary>An object open for reading: its metadata and a handle that keeps this version readable.</summary>
internal sealed class StoredObject(SafeFileHandle handle, ObjectInfo info, byte[]? whole) : IDisposable
{
    public ObjectInfo Info { get; } = info;

    /// <summary>Copies body bytes [offset, offset+count) to <paramref name="destination"/>.</summary>
    public async Task CopyToAsync(System.IO.Pipelines.PipeWriter destination, long offset, long count, CancellationToken cancellationToken)
    {
        if (whole is not null)
        {
            await destination.WriteAsync(whole.AsMemory((int)offset, (int)count), cancellationToken);
            return;
        }

        while (count > 0)
        {
            var memory = destination.GetMemory(64 * 1024);
            var want = (int)Math.Min(memory.Length, count);
            var n = await RandomAccess.ReadAsync(handle, memory[..want], offset, cancellationToken);
            if (n == 0)
            {
                throw new InvalidDataException("object file ended early");
            }

            destination.Advance(n);
            offset += n;
            count -= n;
            var flushed = await destination.FlushAsync(cancellationToken);
            if (flushed.IsCanceled || flushed.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Copies body bytes [offset, offset+count) into a pending write (CopyObject).</summary>
    public async Task CopyToAsync(PendingObject destination, long offset, long count, CancellationToken cancellationToken)
    {
        if (whole is not null)
        {
            await destination.WriteAsync(whole.AsMemory((int)offset, (int)count), cancellationToken);
            return;
        }

        var buffer = ArrayPool<byte>.Shared.Rent(256 * 1024);
        try
        {
            while (count > 0)
            {
                var n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), offset, cancellationToken);
                if (n == 0)
                {
                    throw new InvalidDataException("object file ended early");
                }

                await destination.WriteAsync(buffer.AsMemory(0, n), cancellationToken);
                offset += n;
                count -= n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public void Dispose() => handle.Dispose();
}
