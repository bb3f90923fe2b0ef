// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Security.Cryptography;
using Nexus.Interop;

namespace Nexus.Backend.WriteBack;

/// <summary>Appending a record: reserve its place, write it, wait for the group sync.</summary>
public sealed partial class SpoolJournal
{
    /// <summary>Records up to this size (header, meta, body, footer) are written whole, with one write (<see cref="AppendWholeAsync"/>).</summary>
    private const int WholeRecordMaxBytes = 64 * 1024;

    /// <summary>
    /// Writes one record durably: reserves its place, streams <paramref name="length"/> bytes of <paramref name="body"/>
    /// (computing their MD5, and the writer's checksum when the meta names one), seals it and returns once it is on disk.
    /// Throws <see cref="ChecksumMismatchException"/> before sealing when the body does not match the writer's checksum,
    /// and <see cref="SpoolFullException"/> before reading the body when the spool's disk has no room for the record.
    /// </summary>
    public async Task<JournalEntry> AppendAsync(JournalMeta meta, Stream body, long length, CancellationToken cancellationToken)
    {
        var metaBytes = JournalRecord.EncodeMeta(meta);
        if (metaBytes.Length > JournalRecord.MaxMetaBytes)
        {
            throw new ArgumentException($"the write's bucket, key, content type and metadata take {metaBytes.Length} bytes; at most {JournalRecord.MaxMetaBytes}");
        }

        var size = JournalRecord.Size(metaBytes.Length, length);

        // Room first, before a byte of the body is read: without it (a full disk) the caller still has the body to send
        // elsewhere. The room is set aside for this put, so no other put takes it while its body comes in.
        var room = MakeRoom(size);
        return size <= WholeRecordMaxBytes
            ? await AppendWholeAsync(meta, metaBytes, body, (int)length, (int)size, room, cancellationToken).ConfigureAwait(false)
            : await AppendStreamedAsync(meta, metaBytes, body, length, size, room, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// A small record is read whole first and then written with one write under the lock, its header with its reservation
    /// as a streamed record's is, so a put costs one write instead of two. A body that ends early or does not match its
    /// checksum writes nothing at all.
    /// </summary>
    private async Task<JournalEntry> AppendWholeAsync(JournalMeta meta, byte[] metaBytes, Stream body, int length, int size, JournalSegment room, CancellationToken cancellationToken)
    {
        var headLength = JournalRecord.HeaderBytes + metaBytes.Length;
        var buffer = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var bodyBytes = buffer.AsMemory(headLength, length);
            byte[] hash;
            try
            {
                for (var done = 0; done < length;)
                {
                    var n = await body.ReadAsync(bodyBytes[done..], cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new EndOfStreamException($"the body ended after {done} of {length} bytes");
                    }

                    done += n;
                }

                if (meta.Checksum is { } declared)
                {
                    using var checksum = new ObjectDigest(declared.Algorithm);
                    checksum.Append(bodyBytes.Span);
                    if (!declared.Matches(checksum.Digest()))
                    {
                        throw new ChecksumMismatchException(declared);
                    }
                }

                hash = MD5.HashData(bodyBytes.Span);
            }
            catch
            {
                GiveBack(room, size);
                throw;
            }

            var acknowledgedAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            JournalSegment segment;
            long offset;
            long sequence;
            lock (_lock)
            {
                (segment, offset, sequence) = ReserveLocked(room, size);
                var headerCrc = JournalRecord.WriteHeader(buffer, segment.Generation, sequence, metaBytes, length);
                JournalRecord.WriteFooter(buffer.AsSpan(headLength + length), headerCrc, hash, acknowledgedAt);
                try
                {
                    segment.Write(buffer.AsSpan(0, size), offset);
                }
                catch
                {
                    RefuseAfterFailedWriteLocked(segment);
                    throw;
                }
            }

            try
            {
                await segment.Sync.SyncAsync().ConfigureAwait(false);
            }
            catch
            {
                Release(segment, reader: false);
                throw;
            }

            return new JournalEntry(Sealed(meta, sequence, length, hash, acknowledgedAt), segment, offset, offset + headLength);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// Under the lock: the record's place, the next <paramref name="size"/> bytes of <paramref name="room"/>, set aside for
    /// it (and counted live) by <see cref="MakeRoom"/>, and its sequence number. Should a write into that segment have
    /// failed since, the place is taken in the active segment instead (which may need making, and fail, as an append
    /// that finds no room does: the disk is failing).
    /// </summary>
    private (JournalSegment Segment, long Offset, long Sequence) ReserveLocked(JournalSegment room, long size)
    {
        room.Promised -= size;
        var segment = room;
        if (room.Refused)
        {
            room.Live--;
            FreeIfDoneAfterFailureLocked(room);
            segment = ActiveFor(size);
            segment.Live++;
        }

        var offset = segment.Position;
        segment.Position += size;
        return (segment, offset, ++_sequence);
    }

    /// <summary>A put that will not be written gives back the room <see cref="MakeRoom"/> set aside for it.</summary>
    private void GiveBack(JournalSegment room, long size)
    {
        lock (_lock)
        {
            room.Promised -= size;
            room.Live--;
            FreeIfDoneAfterFailureLocked(room);
        }
    }

    /// <summary>
    /// Under the lock, when the write of a record reserved last in <paramref name="segment"/> failed (EIO, or ENOSPC on a
    /// file system that allocates on overwrite): what lies at its place is unknown (nothing, part of it, a torn header), and
    /// a scan stops at the first header it cannot read, so a record written behind it would be acknowledged and then not
    /// found by the next start. The segment takes no more records (the next put makes or takes another), and the failed
    /// record no longer counts live.
    /// </summary>
    private void RefuseAfterFailedWriteLocked(JournalSegment segment)
    {
        segment.Live--;
        segment.Sealed = true;
        segment.Refused = true;
        if (_active == segment)
        {
            _active = null;
        }

        FreeIfDoneAfterFailureLocked(segment);
    }

    /// <summary>
    /// Under the lock, on a failure's path: <see cref="FreeIfDone"/>, whose own failure (the header could not be cleared)
    /// must not hide the one being reported.
    /// </summary>
    private void FreeIfDoneAfterFailureLocked(JournalSegment segment)
    {
        try
        {
            FreeIfDone(segment);
        }
        catch (IOException)
        {
            // Out of the journal already, it stays on disk for the next start, which finds nothing live in it.
            segment.Dispose();
        }
    }

    /// <summary>A larger record: its header is written with its reservation, its body streams in after, in parallel with other puts'.</summary>
    private async Task<JournalEntry> AppendStreamedAsync(JournalMeta meta, byte[] metaBytes, Stream body, long length, long size, JournalSegment room, CancellationToken cancellationToken)
    {
        var head = new byte[JournalRecord.HeaderBytes + metaBytes.Length];
        JournalSegment segment;
        long offset;
        long sequence;
        uint headerCrc;
        lock (_lock)
        {
            (segment, offset, sequence) = ReserveLocked(room, size);
            headerCrc = JournalRecord.WriteHeader(head, segment.Generation, sequence, metaBytes, length);

            // Written before the lock is let go: every record reserved later lies behind this header.
            try
            {
                segment.Write(head, offset);
            }
            catch
            {
                RefuseAfterFailedWriteLocked(segment);
                throw;
            }
        }

        var bodyOffset = offset + head.Length;
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Clamp(length + JournalRecord.FooterBytes, JournalRecord.FooterBytes, CopyBufferBytes));
        try
        {
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            using var checksum = meta.Checksum is { } declared ? new ObjectDigest(declared.Algorithm) : null;
            long done = 0;
            var filled = 0;
            while (done < length)
            {
                var n = await body.ReadAsync(buffer.AsMemory(filled, (int)Math.Min(buffer.Length - filled, length - done)), cancellationToken).ConfigureAwait(false);
                if (n == 0)
                {
                    throw new EndOfStreamException($"the body ended after {done} of {length} bytes");
                }

                md5.AppendData(buffer, filled, n);
                checksum?.Append(buffer.AsSpan(filled, n));
                done += n;
                filled += n;
                if (filled == buffer.Length)
                {
                    WriteAt(segment, buffer.AsSpan(0, filled), bodyOffset + done - filled, cancellationToken);
                    filled = 0;
                }
            }

            if (checksum is not null && !meta.Checksum!.Matches(checksum.Digest()))
            {
                // Never sealed, so never acknowledged: the function gets BadDigest, as from the store.
                throw new ChecksumMismatchException(meta.Checksum);
            }

            // The footer rides with the body's last bytes when they fit: one write for a small put.
            // The write's LastModified, in whole milliseconds as storage keeps it: the upload carries it to storage
            // (SpoolUpload.LastModifiedHeader), so reads from the spool and from storage agree.
            var acknowledgedAt = DateTimeOffset.FromUnixTimeMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
            var hash = md5.GetHashAndReset();
            if (filled + JournalRecord.FooterBytes > buffer.Length)
            {
                WriteAt(segment, buffer.AsSpan(0, filled), bodyOffset + done - filled, cancellationToken);
                filled = 0;
            }

            JournalRecord.WriteFooter(buffer.AsSpan(filled), headerCrc, hash, acknowledgedAt);
            WriteAt(segment, buffer.AsSpan(0, filled + JournalRecord.FooterBytes), bodyOffset + done - filled, cancellationToken);
            await segment.Sync.SyncAsync().ConfigureAwait(false);
            return new JournalEntry(Sealed(meta, sequence, length, hash, acknowledgedAt), segment, offset, bodyOffset);
        }
        catch
        {
            // Its header stays behind without a footer: skipped by every scan, its space freed with the segment.
            Release(segment, reader: false);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static SpoolRecord Sealed(JournalMeta meta, long sequence, long length, byte[] md5, DateTimeOffset acknowledgedAt) => new()
    {
        Sequence = sequence,
        Bucket = meta.Bucket,
        Key = meta.Key,
        Length = length,
        Md5 = Convert.ToHexStringLower(md5),
        ContentType = meta.ContentType,
        Metadata = meta.Metadata,
        Checksum = meta.Checksum,
        AcknowledgedAt = acknowledgedAt,
    };

    /// <summary>
    /// A plain positional write into the page cache. On Linux an asynchronous file write is this same write queued to the
    /// thread pool: a hop (and a wake-up) per write, for a write that takes microseconds.
    /// </summary>
    private static void WriteAt(JournalSegment segment, ReadOnlySpan<byte> bytes, long offset, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        segment.Write(bytes, offset);
    }
}
