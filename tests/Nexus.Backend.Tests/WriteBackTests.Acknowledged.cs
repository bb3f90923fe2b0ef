// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.WriteBack;

namespace Nexus.Backend.Tests;

/// <summary>A write's upload starts on the thread that acknowledged it, after the acknowledgement, never held up by it.</summary>
public sealed partial class WriteBackTests
{
    [Fact]
    public async Task An_upload_starts_right_after_its_acknowledgement_on_the_acknowledging_thread()
    {
        await StartStoreAsync();
        using var admin = Admin();
        var watcher = new PutWatcher();
        using var http = new HttpClient(watcher);
        await using var queue = NewQueue(admin, http, Path.Combine(_root, "spool-ack"));

        // While the acknowledgement is being sent no upload of the write has begun (before: an uploader was woken first
        // and raced it); by the time AcceptAsync returns, this thread has sent the upload's request itself.
        var startedDuringAcknowledgement = -1;
        await queue.AcceptAsync(Meta("fn/now.txt"), new MemoryStream("now"u8.ToArray()), 3, CancellationToken.None, _ =>
        {
            Thread.Sleep(300);
            startedDuringAcknowledgement = watcher.Started;
            return Task.CompletedTask;
        });
        Assert.Equal((0, 1), (startedDuringAcknowledgement, watcher.Started));
        Assert.Equal(0, await queue.DrainAsync(TimeSpan.FromMinutes(1)));
        Assert.Equal("now", System.Text.Encoding.UTF8.GetString(await GetAsync(admin, "fn/now.txt")));
    }

    [Fact]
    public async Task An_acknowledgement_that_waits_or_fails_does_not_hold_up_the_upload()
    {
        await StartStoreAsync();
        using var admin = Admin();
        var watcher = new PutWatcher();
        using var http = new HttpClient(watcher);
        await using var queue = NewQueue(admin, http, Path.Combine(_root, "spool-ack-waits"));

        // A sandbox that leaves no completion-ring space keeps its acknowledgement waiting: the write lands meanwhile.
        var ringSpace = new TaskCompletionSource();
        var accept = queue.AcceptAsync(Meta("fn/later.txt"), new MemoryStream("later"u8.ToArray()), 5, CancellationToken.None, _ => ringSpace.Task);
        Assert.Equal(0, await queue.DrainAsync(TimeSpan.FromSeconds(20)));
        Assert.False(accept.IsCompleted);
        Assert.Equal("later", System.Text.Encoding.UTF8.GetString(await GetAsync(admin, "fn/later.txt")));
        ringSpace.SetResult();
        await accept;

        // An acknowledgement that throws (the channel closed) leaves a durable write: it is uploaded all the same.
        await Assert.ThrowsAsync<ChannelClosedForTestException>(() => queue.AcceptAsync(
            Meta("fn/unanswered.txt"), new MemoryStream("kept"u8.ToArray()), 4, CancellationToken.None, _ => throw new ChannelClosedForTestException()));
        Assert.Equal(0, await queue.DrainAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal("kept", System.Text.Encoding.UTF8.GetString(await GetAsync(admin, "fn/unanswered.txt")));
    }

    private static JournalMeta Meta(string key) => new(Bucket, key, "text/plain", new Dictionary<string, string>());

    private sealed class ChannelClosedForTestException : Exception;

    /// <summary>Counts the PutObject requests sent (on the sending thread, before the store has them).</summary>
    private sealed class PutWatcher() : DelegatingHandler(new HttpClientHandler())
    {
        private int _started;

        public int Started => Volatile.Read(ref _started);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method == HttpMethod.Put)
            {
                Interlocked.Increment(ref _started);
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
