// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
using Nexus.Interop;

namespace Nexus.Store;


/// <summary>A new object or part being written under tmp/; deleted on dispose unless committed.</summary>
internal sealed class PendingObject : IAsyncDisposable
{
    private readonly string _path;
    private readonly long _max;
    private readonly bool _durable;
    private readonly IncrementalHash? _md5;
    private FileStream? _file;
    private ulong _crc64;
    private S3Checksum? _partChecksum;
    private bool _committed;

    public PendingObject(string path, long max, bool durable, bool computeMd5)
    {
        _path = path;
        _max = max;
        _durable = durable;
        _md5 = computeMd5 ? IncrementalHash.CreateHash(HashAlgorithmName.MD5) : null;
        _file = new FileStream(path, new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None, BufferSize = 0 });
    }

    public long Length { get; private set; }

    public async ValueTask WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        Length += data.Length;
        if (Length > _max)
        {
            throw S3Errors.EntityTooLarge(_max);
        }

        _md5?.AppendData(data.Span);
        _crc64 = Crc64Nvme.Append(_crc64, data.Span);
        _partChecksum?.Append(data.Span);
        await _file!.WriteAsync(data, cancellationToken);
    }

    /// <summary>Hex MD5 of everything written (the S3 ETag of a single PUT or part).</summary>
    public string Md5Hex() => Convert.ToHexStringLower(_md5!.GetCurrentHash());

    /// <summary>The CRC-64/NVME of everything written: the checksum S3 keeps for an object whose writer sent none.</summary>
    public ObjectChecksum Crc64NvmeChecksum()
    {
        Span<byte> value = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(value, _crc64);
        return new ObjectChecksum("crc64nvme", Convert.ToBase64String(value));
    }

    /// <summary>
    /// Also computes the checksum <paramref name="algorithm"/> of everything written from now on: a part of an upload
    /// created with a ChecksumAlgorithm keeps its checksum, whether the part came with one, without, or as a copy.
    /// </summary>
    public void ComputeChecksum(string algorithm) => _partChecksum = S3Checksum.Create(algorithm);

    /// <summary>The checksum <see cref="ComputeChecksum"/> asked for (null: none was); call once, after the last write.</summary>
    public ObjectChecksum? ComputedChecksum() => _partChecksum is { } checksum ? new ObjectChecksum(checksum.Algorithm, checksum.ToBase64()) : null;

    /// <summary>Appends the metadata trailer, fsyncs and closes; returns the temp path to rename.</summary>
    public string Finish(ObjectInfo info)
    {
        var file = _file!;
        file.Write(ObjectFile.EncodeTrailer(info));
        file.Flush(_durable);
        file.Dispose();
        _file = null;
        return _path;
    }

    public void Committed() => _committed = true;

    public async ValueTask DisposeAsync()
    {
        _md5?.Dispose();
        _partChecksum?.Dispose();
        if (_file is not null)
        {
            await _file.DisposeAsync();
        }

        if (!_committed)
        {
            File.Delete(_path);
        }
    }
}
