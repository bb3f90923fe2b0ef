// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.S3;
using Nexus.Backend.Storage;
using Nexus.Backend.WriteBack;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>An upload's retirement rides on a later sync; whoever waited for the upload acts only once it is durable.</summary>
public sealed partial class WriteBackTests
{
    [Fact]
    public async Task A_delete_that_waited_for_an_upload_is_not_undone_by_a_power_loss_after_it()
    {
        await StartStoreAsync();
        using var disk = new PowerLossDisk();
        using var admin = Admin();
        using var http = new HttpClient();
        var direct = new DirectS3(new NexusBackendOptions { ServiceUrl = StoreUrl, AccessKey = NodeUnderTest.AccessKey, SecretKey = NodeUnderTest.SecretKey }, http);
        WriteBackQueue Queue(string spool, Action<string>? beforeSync) =>
            new(admin, direct, new KnownBuckets(direct), spool, 1L << 30, 1, (_, _) => { }, _ => { }, beforeSync: beforeSync, markSyncDelay: TimeSpan.FromHours(1));

        const string Key = "fn/deleted-after-upload";
        string afterPowerLoss;
        await using (var queue = Queue(Spool, disk.Keep))
        {
            var body = "uploaded, then deleted"u8.ToArray();
            await queue.AcceptAsync(new JournalMeta(Bucket, Key, "text/plain", new Dictionary<string, string>()), new MemoryStream(body), body.Length, CancellationToken.None);

            // As DeleteObject does: wait until the key has no pending write, then delete it in storage.
            await queue.FlushAsync(Bucket, Key, CancellationToken.None);
            await admin.DeleteObjectAsync(Bucket, Key);

            // The power fails here: the spool is what its last syncs kept.
            afterPowerLoss = disk.CopyForRestart();
        }

        var writes = 0;
        _store!.ObjectChanged += (_, _) => Interlocked.Increment(ref writes);
        try
        {
            await using var restarted = Queue(afterPowerLoss, beforeSync: null);
            Assert.Equal(0, await restarted.DrainAsync(TimeSpan.FromMinutes(1)));
            Assert.Equal(0, writes);
            var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => admin.GetObjectMetadataAsync(Bucket, Key));
            Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);
        }
        finally
        {
            Directory.Delete(afterPowerLoss, recursive: true);
        }
    }
}
