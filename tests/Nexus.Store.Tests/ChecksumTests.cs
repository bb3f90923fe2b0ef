// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Binary;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Interop;

namespace Nexus.Store.Tests;

/// <summary>The CRCs behind S3's flexible checksums, and the full-object checksum the store keeps and returns as S3 does.</summary>
public sealed class ChecksumTests : IClassFixture<StoreFixture>
{
    private readonly StoreFixture _store;

    public ChecksumTests(StoreFixture store)
    {
        _store = store;
    }

    [Fact]
    public void The_crcs_give_their_catalogued_check_values()
    {
        // The check value of a CRC is its CRC of "123456789" (the CRC catalogue's CRC-64/NVME and CRC-32/ISO-HDLC).
        Assert.Equal(0xAE8B14860A799888UL, Crc64Nvme.Append(0, "123456789"u8));
        Assert.Equal(0xCBF43926U, Crc32.Append(0, "123456789"u8));
    }

    [Fact]
    public void The_folded_crcs_match_a_bit_at_a_time_reference_at_every_length_and_split()
    {
        var data = RandomNumberGenerator.GetBytes(4096);
        // Up to 300 every length; beyond, lengths that take the 512-bit folding (from 512 bytes, where the CPU has it) through
        // several 256-byte rounds with every kind of rest (64-byte blocks, 16-byte blocks, single bytes).
        for (var length = 0; length <= 2200; length += length < 300 ? 1 : 37)
        {
            var slice = data.AsSpan(0, length);
            Assert.Equal(Reference(64, 0x9A6C9329AC4BC9B5, slice), Crc64Nvme.Append(0, slice));
            Assert.Equal((uint)Reference(32, 0xEDB88320, slice), Crc32.Append(0, slice));
        }

        // Appending in pieces (a body arriving in reads of any size) gives the CRC of the whole.
        var whole = Crc64Nvme.Append(0, data);
        foreach (var split in new[] { 1, 15, 16, 63, 64, 129, 1000, 4000 })
        {
            Assert.Equal(whole, Crc64Nvme.Append(Crc64Nvme.Append(0, data.AsSpan(0, split)), data.AsSpan(split)));
        }
    }

    [Fact]
    public async Task An_object_written_without_a_checksum_keeps_a_crc64nvme_returned_in_checksum_mode()
    {
        using var client = Client(RequestChecksumCalculation.WHEN_REQUIRED);
        var bucket = await NewBucketAsync(client);
        var body = RandomNumberGenerator.GetBytes(200_000);
        var put = await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "a", InputStream = new MemoryStream(body) });
        var expected = Base64(Crc64Nvme.Append(0, body));
        Assert.Equal(expected, put.ChecksumCRC64NVME);

        var head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "a", ChecksumMode = ChecksumMode.ENABLED });
        Assert.Equal(expected, head.ChecksumCRC64NVME);
        Assert.Equal(ChecksumType.FULL_OBJECT, head.ChecksumType);

        // Only when asked, and only for the whole object (a range's bytes cannot be checked against it), as in S3.
        var plain = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "a" });
        Assert.Null(plain.ChecksumCRC64NVME);
        using var ranged = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "a", ByteRange = new ByteRange(0, 99), ChecksumMode = ChecksumMode.ENABLED });
        Assert.Null(ranged.ChecksumCRC64NVME);

        // A copy keeps one too, and so does the store after a restart (it is in the object file's trailer).
        await client.CopyObjectAsync(bucket, "a", bucket, "b");
        await _store.StopAsync();
        await _store.StartAsync();
        using var after = Client(RequestChecksumCalculation.WHEN_REQUIRED);
        var copied = await after.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "b", ChecksumMode = ChecksumMode.ENABLED });
        Assert.Equal(expected, copied.ChecksumCRC64NVME);
    }

    [Fact]
    public async Task An_object_keeps_the_checksum_its_writer_sent()
    {
        using var client = Client(RequestChecksumCalculation.WHEN_SUPPORTED);
        var bucket = await NewBucketAsync(client);
        var body = RandomNumberGenerator.GetBytes(70_000);
        await client.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = "c", InputStream = new MemoryStream(body), ChecksumAlgorithm = ChecksumAlgorithm.CRC32 });
        var head = await client.GetObjectMetadataAsync(new GetObjectMetadataRequest { BucketName = bucket, Key = "c", ChecksumMode = ChecksumMode.ENABLED });
        Span<byte> crc = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, Crc32.Append(0, body));
        Assert.Equal(Convert.ToBase64String(crc), head.ChecksumCRC32);
        Assert.Null(head.ChecksumCRC64NVME);

        // The SDK validates a CRC32 it is given: the GET reads whole.
        using var get = await client.GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = "c", ChecksumMode = ChecksumMode.ENABLED });
        using var copy = new MemoryStream();
        await get.ResponseStream.CopyToAsync(copy);
        Assert.Equal(body, copy.ToArray());
    }

    private static string Base64(ulong crc)
    {
        Span<byte> value = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64BigEndian(value, crc);
        return Convert.ToBase64String(value);
    }

    // A reflected CRC one bit at a time from its reflected polynomial, with S3's all-ones start and final XOR.
    private static ulong Reference(int width, ulong reflectedPolynomial, ReadOnlySpan<byte> data)
    {
        var mask = width == 64 ? ulong.MaxValue : (1UL << width) - 1;
        var crc = mask;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ reflectedPolynomial : crc >> 1;
            }
        }

        return crc ^ mask;
    }

    private AmazonS3Client Client(RequestChecksumCalculation checksums) =>
        new(new BasicAWSCredentials(StoreFixture.AccessKey, StoreFixture.SecretKey), new AmazonS3Config
        {
            ServiceURL = _store.Endpoint.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
            MaxErrorRetry = 0,
            RequestChecksumCalculation = checksums,
        });

    private static async Task<string> NewBucketAsync(AmazonS3Client client)
    {
        var name = "crc-" + Guid.NewGuid().ToString("N")[..12];
        await client.PutBucketAsync(name);
        return name;
    }
}
