// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// What one micro-VM restored from a shared snapshot gets of its own (docs/channel.md, "Restore record"): every VM
/// restored from one snapshot resumes with the snapshot's CRNG state, Python <c>random</c> state, wall clock and the
/// first instance's per-instance environment. The node writes this record into the instance's region before its vCPUs
/// run; the guest driver mixes the seed into the kernel's CRNG, reseeds it and steps the wall clock, and the runtime
/// reseeds <c>random</c> and sets the environment values. The host never reads the record back.
/// </summary>
public sealed class RestoreRecord
{
    /// <summary>Region offset of the record, in the header page after the channel's fields.</summary>
    public const int Offset = 1024;

    /// <summary>Bytes the record may use: the rest of the channel's 4096-byte header page (ChannelLayout.HeaderSize).</summary>
    public const int MaxSize = 4096 - Offset;

    public const uint Magic = 0x5352584E; // "NXRS"
    public const ushort Version = 1;
    public const int SeedSize = 32;

    // Field offsets inside the record (guest/driver/nexus.c struct nexus_restore, runtime/nexus_channel).
    public const int OffMagic = 0;
    public const int OffVersion = 4;
    public const int OffEnvironmentLength = 6;
    public const int OffSequence = 8;
    public const int OffWallClock = 16;
    public const int OffSeed = 24;
    public const int OffApplied = 56;
    public const int OffEnvironment = 64;

    /// <summary>Bytes the environment entries may take.</summary>
    public const int MaxEnvironmentBytes = MaxSize - OffEnvironment;

    private readonly byte[] _bytes;

    private RestoreRecord(byte[] bytes) => _bytes = bytes;

    /// <summary>The encoded record (header and environment; the bytes after it up to <see cref="MaxSize"/> are zero).</summary>
    public ReadOnlySpan<byte> Bytes => _bytes;

    /// <summary>
    /// A record for one restore: a fresh sequence and seed from the CSPRNG, the host's wall clock now, and the
    /// instance's own values of its per-instance variables.
    /// </summary>
    public static RestoreRecord Create(IEnumerable<KeyValuePair<string, string>> environment)
    {
        Span<byte> random = stackalloc byte[sizeof(ulong) + SeedSize];
        RandomNumberGenerator.Fill(random);

        // Zero means "no record" to the guest.
        var sequence = BinaryPrimitives.ReadUInt64LittleEndian(random) | 1;
        var wallClockNs = (DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100;
        return Encode(sequence, wallClockNs, random[sizeof(ulong)..], environment);
    }

    /// <summary>
    /// Encodes a record. The environment is checked as the guest will read it: every name non-empty without '=' or NUL,
    /// every value without NUL, no name twice, all of it within <see cref="MaxEnvironmentBytes"/> as UTF-8
    /// <c>NAME=value\0</c> entries.
    /// </summary>
    public static RestoreRecord Encode(ulong sequence, long wallClockNs, ReadOnlySpan<byte> seed, IEnumerable<KeyValuePair<string, string>> environment)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentOutOfRangeException.ThrowIfZero(sequence);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(wallClockNs);
        if (seed.Length != SeedSize)
        {
            throw new ArgumentException($"the seed must be {SeedSize} bytes, got {seed.Length}", nameof(seed));
        }

        var entries = new StringBuilder();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, value) in environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            if (name.Length == 0 || name.Contains('=', StringComparison.Ordinal) || name.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"environment name '{name}' is empty or holds '=' or NUL", nameof(environment));
            }

            if (value is null || value.Contains('\0', StringComparison.Ordinal))
            {
                throw new ArgumentException($"the value of {name} is missing or holds NUL", nameof(environment));
            }

            if (!names.Add(name))
            {
                throw new ArgumentException($"environment name {name} given twice", nameof(environment));
            }

            entries.Append(name).Append('=').Append(value).Append('\0');
        }

        var encoded = Encoding.UTF8.GetBytes(entries.ToString());
        if (encoded.Length > MaxEnvironmentBytes)
        {
            throw new ArgumentException($"the per-instance environment takes {encoded.Length} bytes; a restore record holds {MaxEnvironmentBytes}", nameof(environment));
        }

        var bytes = new byte[OffEnvironment + encoded.Length];
        var span = bytes.AsSpan();
        BinaryPrimitives.WriteUInt32LittleEndian(span[OffMagic..], Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(span[OffVersion..], Version);
        BinaryPrimitives.WriteUInt16LittleEndian(span[OffEnvironmentLength..], (ushort)encoded.Length);
        BinaryPrimitives.WriteUInt64LittleEndian(span[OffSequence..], sequence);
        BinaryPrimitives.WriteInt64LittleEndian(span[OffWallClock..], wallClockNs);
        seed.CopyTo(span[OffSeed..]);
        encoded.CopyTo(span[OffEnvironment..]);
        return new RestoreRecord(bytes);
    }

    /// <summary>
    /// Writes the record into the region <paramref name="region"/> (a memfd) at <see cref="Offset"/>, zeroing the rest
    /// of its space, so nothing of an earlier record is left. Only before the VM that maps the region runs.
    /// </summary>
    public void WriteTo(SafeFd region)
    {
        ArgumentNullException.ThrowIfNull(region);
        var page = new byte[MaxSize];
        _bytes.CopyTo(page, 0);
        using var handle = new SafeFileHandle(region.DangerousGetHandle(), ownsHandle: false);
        RandomAccess.Write(handle, page, Offset);
    }
}
