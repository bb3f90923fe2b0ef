// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Store.Tests;

/// <summary>Range parsing, key order and listing logic, without a server.</summary>
public sealed class StoreUnitTests
{
    [Theory]
    [InlineData("bytes=0-9", 100, 0, 10)]
    [InlineData("bytes=10-", 100, 10, 90)]
    [InlineData("bytes=-5", 100, 95, 5)]
    [InlineData("bytes=-500", 100, 0, 100)]
    [InlineData("bytes=90-200", 100, 90, 10)]
    [InlineData("bytes=99-99", 100, 99, 1)]
    public void SatisfiableRanges(string header, long size, long offset, long count)
    {
        Assert.Equal((offset, count), RangeHeader.Parse(header, size));
    }

    [Theory]
    [InlineData("bytes=100-", 100)]
    [InlineData("bytes=100-200", 100)]
    [InlineData("bytes=-0", 100)]
    [InlineData("bytes=0-0", 0)]
    public void UnsatisfiableRangesAreInvalidRange(string header, long size)
    {
        var error = Assert.Throws<S3Exception>(() => RangeHeader.Parse(header, size));
        Assert.Equal(416, error.Status);
        Assert.Equal("InvalidRange", error.Code);
    }

    [Theory]
    [InlineData("items=0-1")]
    [InlineData("bytes=5-2")]
    [InlineData("bytes=0-1,3-4")]
    [InlineData("bytes=a-b")]
    public void MalformedOrMultipleRangesServeTheWholeObject(string header)
    {
        Assert.Null(RangeHeader.Parse(header, 100));
    }

    [Fact]
    public void KeysSortInUtf8ByteOrder()
    {
        // U+FF5E sorts before U+1F600 in UTF-8 (EF BD 9E < F0 9F 98 80), unlike UTF-16 ordinal order.
        string[] keys = ["\U0001F600", "\uFF5E", "a", "B", "ab", "a/"];
        var sorted = keys.Order(Utf8KeyComparer.Instance).ToArray();
        var byBytes = keys.Order(Comparer<string>.Create((x, y) => System.Text.Encoding.UTF8.GetBytes(x).AsSpan().SequenceCompareTo(System.Text.Encoding.UTF8.GetBytes(y)))).ToArray();
        Assert.Equal(byBytes, sorted);
        Assert.Equal(["B", "a", "a/", "ab", "\uFF5E", "\U0001F600"], sorted);
    }

    private static Bucket BucketWith(params string[] keys)
    {
        var bucket = new Bucket("b", DateTimeOffset.UnixEpoch, "/nonexistent");
        foreach (var key in keys)
        {
            var index = bucket.Find(key);
            bucket.Objects.Insert(~index, new ObjectEntry(key, 1, "e", DateTimeOffset.UnixEpoch));
        }

        return bucket;
    }

    [Fact]
    public void ListingRollsUpCommonPrefixesAndResumesAfterThem()
    {
        var bucket = BucketWith("photos/2024/a.jpg", "photos/2024/b.jpg", "photos/2025/c.jpg", "photos/readme", "videos/x", "z");
        var first = Listing.List(bucket, "photos/", "/", null, 2);
        Assert.Equal(["photos/2024/", "photos/2025/"], first.CommonPrefixes);
        Assert.Empty(first.Contents);
        Assert.True(first.IsTruncated);
        Assert.Equal("photos/2025/", first.NextMarker);

        var second = Listing.List(bucket, "photos/", "/", first.NextMarker, 2);
        Assert.Equal(["photos/readme"], second.Contents.Select(c => c.Key));
        Assert.Empty(second.CommonPrefixes);
        Assert.False(second.IsTruncated);

        var all = Listing.List(bucket, string.Empty, null, null, 1000);
        Assert.Equal(6, all.Contents.Count);
        var top = Listing.List(bucket, string.Empty, "/", null, 1000);
        Assert.Equal(["photos/", "videos/"], top.CommonPrefixes);
        Assert.Equal(["z"], top.Contents.Select(c => c.Key));
    }

    [Fact]
    public void ListingPagesWithoutDelimiterVisitEveryKeyOnce()
    {
        var keys = Enumerable.Range(0, 25).Select(i => $"k{i:D3}").ToArray();
        var bucket = BucketWith(keys);
        var seen = new List<string>();
        string? marker = null;
        do
        {
            var page = Listing.List(bucket, "k", null, marker, 7);
            seen.AddRange(page.Contents.Select(c => c.Key));
            marker = page.IsTruncated ? page.NextMarker : null;
        }
        while (marker is not null);

        Assert.Equal(keys, seen);
    }

    [Theory]
    [InlineData("ab", "3 to 63")]
    [InlineData("Upper", "not allowed")]
    [InlineData("-start", "begin and end")]
    [InlineData("a..b", "adjacent periods")]
    [InlineData("192.168.1.1", "IP address")]
    public void BadBucketNamesSayWhy(string name, string why)
    {
        var error = Assert.Throws<S3Exception>(() => S3Names.CheckBucketName(name));
        Assert.Equal("InvalidBucketName", error.Code);
        Assert.Contains(why, error.Message, StringComparison.Ordinal);
    }
}
