// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text.Json;
using Nexus.Interop;

namespace Nexus.Backend.WriteBack;

/// <summary>What a spool file says about its write (its trailer).</summary>
public sealed record SpoolRecord
{
    public required long Sequence { get; init; }

    public required string Bucket { get; init; }

    public required string Key { get; init; }

    public required long Length { get; init; }

    /// <summary>MD5 of the body, lower-case hex: the ETag the store gives a single-part PUT of these bytes.</summary>
    public required string Md5 { get; init; }

    public string? ContentType { get; init; }

    public IReadOnlyDictionary<string, string> Metadata { get; init; } = new Dictionary<string, string>();

    /// <summary>The checksum the writer sent, which the body matched (the upload sends it for the store to keep).</summary>
    public WriterChecksum? Checksum { get; init; }

    /// <summary>When the write was acknowledged to the function (the object's LastModified while pending).</summary>
    public required DateTimeOffset AcknowledgedAt { get; init; }

    /// <summary>The quoted ETag.</summary>
    public string ETag => "\"" + Md5 + "\"";
}

/// <summary>
/// The write-back spool's first format, one file per write: <c>[magic 8][body][trailer JSON][u32 trailer length][magic 8]</c>.
/// The journal (<see cref="SpoolJournal"/>) replaced it; files left by an older node are moved into the journal at start
/// (<see cref="TryRead"/>), and <c>nexus bench spool</c> measures it against the journal (<see cref="WriteAsync"/>). The body comes first
/// so that it streams straight from the channel to the file while its MD5 is computed; the trailer, which needs the MD5,
/// follows. A file gets its final name only after it was fsynced, and the directory is fsynced after the rename, so a
/// final-named file is whole; recovery still checks the magic, lengths and the MD5 of every file before trusting it.
/// </summary>
public static class SpoolFile
{
    public const string Extension = ".nxwb";
    public const string TempPrefix = ".tmp-";

    /// <summary>Bytes before the body.</summary>
    public const int BodyOffset = 8;

    private const int MaxTrailerBytes = 64 * 1024;

    private static readonly byte[] s_head = "NXWB1\n\0\0"u8.ToArray();
    private static readonly byte[] s_tail = "NXWBEND\n"u8.ToArray();

    public static string FileName(long sequence) => sequence.ToString("D19", System.Globalization.CultureInfo.InvariantCulture) + Extension;

    /// <summary>
    /// Writes <paramref name="length"/> bytes from <paramref name="body"/> and the trailer to a new spool file in
    /// <paramref name="directory"/>, durably, and returns the record (with the MD5 it computed) and the file's path.
    /// </summary>
    public static async Task<(SpoolRecord Record, string Path)> WriteAsync(
        string directory, long sequence, string bucket, string key, string? contentType, IReadOnlyDictionary<string, string> metadata, Stream body, long length, CancellationToken cancellationToken)
    {
        var temp = Path.Combine(directory, TempPrefix + sequence.ToString(System.Globalization.CultureInfo.InvariantCulture));
        var final = Path.Combine(directory, FileName(sequence));
        try
        {
            SpoolRecord record;
            await using (var file = new FileStream(temp, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Options = FileOptions.Asynchronous, BufferSize = 0, PreallocationSize = length + 4096 }))
            {
                await file.WriteAsync(s_head, cancellationToken).ConfigureAwait(false);
                using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
                var buffer = new byte[(int)Math.Clamp(length, 1, 1 << 20)];
                long done = 0;
                while (done < length)
                {
                    var n = await body.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - done)), cancellationToken).ConfigureAwait(false);
                    if (n == 0)
                    {
                        throw new EndOfStreamException($"the body ended after {done} of {length} bytes");
                    }

                    md5.AppendData(buffer, 0, n);
                    await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                    done += n;
                }

                record = new SpoolRecord
                {
                    Sequence = sequence,
                    Bucket = bucket,
                    Key = key,
                    Length = length,
                    Md5 = Convert.ToHexStringLower(md5.GetHashAndReset()),
                    ContentType = contentType,
                    Metadata = metadata,
                    AcknowledgedAt = DateTimeOffset.UtcNow,
                };
                var trailer = JsonSerializer.SerializeToUtf8Bytes(record, SpoolJson.Default.SpoolRecord);
                var tail = new byte[trailer.Length + 4 + s_tail.Length];
                trailer.CopyTo(tail, 0);
                BinaryPrimitives.WriteUInt32LittleEndian(tail.AsSpan(trailer.Length), (uint)trailer.Length);
                s_tail.CopyTo(tail, trailer.Length + 4);
                await file.WriteAsync(tail, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            File.Move(temp, final);
            DirectorySync.Fsync(directory);
            return (record, final);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Reads and checks a spool file (magic, lengths, trailer, MD5 of the body). Null with a reason when it is not whole.</summary>
    public static SpoolRecord? TryRead(string path, out string? problem)
    {
        problem = null;
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 0);
            var size = file.Length;
            Span<byte> head = stackalloc byte[8];
            if (size < BodyOffset + 4 + 8 || file.Read(head) != 8 || !head.SequenceEqual(s_head))
            {
                problem = "not a spool file (bad head)";
                return null;
            }

            Span<byte> end = stackalloc byte[12];
            file.Position = size - 12;
            file.ReadExactly(end);
            var trailerLength = BinaryPrimitives.ReadUInt32LittleEndian(end);
            if (!end[4..].SequenceEqual(s_tail) || trailerLength > MaxTrailerBytes || trailerLength > size - BodyOffset - 12)
            {
                problem = "torn or foreign trailer";
                return null;
            }

            var trailer = new byte[trailerLength];
            file.Position = size - 12 - trailerLength;
            file.ReadExactly(trailer);
            var record = JsonSerializer.Deserialize(trailer, SpoolJson.Default.SpoolRecord);
            if (record is null || record.Length != size - BodyOffset - 12 - trailerLength)
            {
                problem = "trailer does not match the body length";
                return null;
            }

            file.Position = BodyOffset;
            using var md5 = IncrementalHash.CreateHash(HashAlgorithmName.MD5);
            var buffer = new byte[1 << 20];
            var left = record.Length;
            while (left > 0)
            {
                var n = file.Read(buffer, 0, (int)Math.Min(buffer.Length, left));
                if (n == 0)
                {
                    break;
                }

                md5.AppendData(buffer, 0, n);
                left -= n;
            }

            if (left != 0 || Convert.ToHexStringLower(md5.GetHashAndReset()) != record.Md5)
            {
                problem = "body does not match its MD5";
                return null;
            }

            return record;
        }
        catch (Exception e) when (e is IOException or JsonException or UnauthorizedAccessException)
        {
            problem = e.Message;
            return null;
        }
    }

    /// <summary>Removes a spool file for good (unlink, then the directory is synced so the removal survives a crash).</summary>
    public static void Delete(string path)
    {
        File.Delete(path);
        DirectorySync.Fsync(Path.GetDirectoryName(path)!);
    }
}

[System.Text.Json.Serialization.JsonSerializable(typeof(SpoolRecord))]
[System.Text.Json.Serialization.JsonSerializable(typeof(JournalMeta))]
internal sealed partial class SpoolJson : System.Text.Json.Serialization.JsonSerializerContext;
