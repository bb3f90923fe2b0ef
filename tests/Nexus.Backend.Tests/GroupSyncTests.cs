// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Nexus.Backend.WriteBack;

namespace Nexus.Backend.Tests;

/// <summary>
/// <see cref="GroupSync"/> with two syncs in flight, over a sync action the test ends by hand (each caller on its own
/// thread, as puts block theirs): how many run at once, on which slot, when their callers are released, and what a
/// failure of the earlier one does to the later one's callers. And the segment's descriptors per slot.
/// </summary>
public sealed partial class GroupSyncTests
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(30);

    // How long a caller that must stay blocked is given to return wrongly: it would return at once.
    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(200);

    [Fact]
    public void Two_syncs_run_at_once_each_on_its_own_slot_and_a_third_waits_for_a_free_slot()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);

        var (first, firstSync) = CallerWithSync(group, syncs);

        // Its bytes may have missed the running sync: the next one starts at once, on the other slot.
        var (second, secondSync) = CallerWithSync(group, syncs);
        Assert.Equal(0, firstSync.Slot);
        Assert.Equal(1, secondSync.Slot);

        var third = Caller(() => group.Sync());
        WaitUntilBlocked(third);
        Assert.Equal(2, group.Syncs);

        firstSync.End();
        Assert.True(first.Done.Wait(s_patience));
        Assert.Null(first.Failure);

        // The slot sync 1 left is the third caller's.
        var thirdSync = syncs.NextStarted();
        Assert.Equal(0, thirdSync.Slot);
        Assert.False(second.Done.IsSet);
        secondSync.End();
        thirdSync.End();
        Assert.True(second.Done.Wait(s_patience) && third.Done.Wait(s_patience));
        Assert.Null(second.Failure);
        Assert.Null(third.Failure);
        Assert.Equal(3, group.Syncs);
        Assert.True(group.Covers(3));
    }

    [Fact]
    public void A_sync_that_ends_before_an_earlier_one_releases_no_caller_until_the_earlier_one_has_ended()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var (first, firstSync) = CallerWithSync(group, syncs);
        var (second, secondSync) = CallerWithSync(group, syncs);

        secondSync.End();
        secondSync.Ended.Wait(s_patience);
        WaitUntilBlocked(second);
        Assert.False(second.Done.IsSet);
        Assert.False(group.Covers(1));
        Assert.False(group.Covers(2));

        firstSync.End();
        Assert.True(first.Done.Wait(s_patience) && second.Done.Wait(s_patience));
        Assert.Null(first.Failure);
        Assert.Null(second.Failure);
        Assert.True(group.Covers(2));
    }

    [Fact]
    public void A_failed_earlier_sync_fails_the_callers_of_a_later_one_that_succeeded_and_every_sync_after()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var (first, firstSync) = CallerWithSync(group, syncs);
        var (second, secondSync) = CallerWithSync(group, syncs);
        var third = Caller(() => group.Sync());
        WaitUntilBlocked(third);

        // The later sync succeeds first: its bytes may be on disk, but the earlier batch's may have been dropped. The
        // third caller's sync takes the slot it left.
        secondSync.End();
        var thirdSync = syncs.NextStarted();
        WaitUntilBlocked(second);
        firstSync.End(new IOException("EIO"));
        Assert.True(first.Done.Wait(s_patience) && second.Done.Wait(s_patience));
        Assert.IsType<IOException>(first.Failure);
        Assert.IsType<IOException>(second.Failure);

        // A sync that started before the failure was known and succeeds proves nothing either.
        thirdSync.End();
        Assert.True(third.Done.Wait(s_patience));
        Assert.IsType<IOException>(third.Failure);

        // No later call runs a sync.
        Assert.Throws<IOException>(() => group.Sync());
        Assert.Equal(3, group.Syncs);
        Assert.False(group.Covers(2));
    }

    [Fact]
    public void A_freed_slot_is_handed_to_a_caller_of_the_next_sync_and_no_caller_returns_before_its_sync_completed()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var (first, firstSync) = CallerWithSync(group, syncs);
        var (second, secondSync) = CallerWithSync(group, syncs);

        // A caller content with sync 2 (as a retirement's mark sync is), then two whose bytes no started sync covers.
        var markWaiter = Caller(() => group.Sync(2));
        WaitUntilBlocked(markWaiter);
        var third = Caller(() => group.Sync());
        WaitUntilBlocked(third);
        var fourth = Caller(() => group.Sync());
        WaitUntilBlocked(fourth);

        // Sync 1's thread returns to its caller; sync 3 starts on the slot it left with no further call, run by a caller
        // that needs it, not by the one waiting for sync 2.
        firstSync.End();
        Assert.True(first.Done.Wait(s_patience));
        var thirdSync = syncs.NextStarted();
        Assert.Equal(0, thirdSync.Slot);
        Assert.Equal(3, group.Syncs);
        Assert.False(markWaiter.Done.Wait(s_settle));
        Assert.False(third.Done.IsSet || fourth.Done.IsSet);

        secondSync.End();
        Assert.True(second.Done.Wait(s_patience) && markWaiter.Done.Wait(s_patience));
        Assert.False(third.Done.Wait(s_settle) || fourth.Done.IsSet);

        thirdSync.End();
        Assert.True(third.Done.Wait(s_patience) && fourth.Done.Wait(s_patience));
        Assert.All(new[] { first, second, markWaiter, third, fourth }, caller => Assert.Null(caller.Failure));
        Assert.Equal(3, group.Syncs);
    }

    [Fact]
    public void Each_sync_slot_of_a_segment_is_its_own_open_file_description()
    {
        var directory = Directory.CreateTempSubdirectory("nexus-group-sync-").FullName;
        try
        {
            var path = Path.Combine(directory, "00000001" + SpoolJournal.Extension);
            var handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read);
            using var segment = new JournalSegment(path, handle, 4096, beforeSync: null);
            Assert.Equal(JournalSegment.SyncSlots, segment.SyncHandles.Count);
            Assert.Same(handle, segment.SyncHandles[0]);

            // Descriptors of one description (the same handle, or a dup) share its file offset; separate open()s do not.
            for (var slot = 0; slot < segment.SyncHandles.Count; slot++)
            {
                Assert.Equal(100L + slot, Seek(segment.SyncHandles[slot], 100 + slot, SeekSet));
            }

            for (var slot = 0; slot < segment.SyncHandles.Count; slot++)
            {
                Assert.Equal(100L + slot, Seek(segment.SyncHandles[slot], 0, SeekCur));
            }

            segment.Sync.Sync();
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private const int SeekSet = 0;
    private const int SeekCur = 1;

    [LibraryImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static partial long Seek(SafeFileHandle file, long offset, int whence);

    /// <summary>A caller of <paramref name="group"/>'s Sync on its own thread, and the sync it started.</summary>
    private static (CallerThread Caller, StartedSync Sync) CallerWithSync(GroupSync group, HandEndedSyncs syncs)
    {
        var caller = Caller(() => group.Sync());
        return (caller, syncs.NextStarted());
    }

    /// <summary>Runs <paramref name="call"/> on a thread of its own; Done is set when it returns or throws.</summary>
    private static CallerThread Caller(Action call)
    {
        var caller = new CallerThread();
        caller.Thread = new Thread(() =>
        {
            try
            {
                call();
            }
            catch (Exception e)
            {
                caller.Failure = e;
            }
            finally
            {
                caller.Done.Set();
            }
        })
        {
            IsBackground = true,
        };
        caller.Thread.Start();
        return caller;
    }

    /// <summary>Waits until the caller's thread sleeps (in the group's wait: nothing else it does blocks) or has ended.</summary>
    private static void WaitUntilBlocked(CallerThread caller)
    {
        var deadline = DateTime.UtcNow + s_patience;
        while ((caller.Thread!.ThreadState & (ThreadState.WaitSleepJoin | ThreadState.Stopped)) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the caller never blocked");
            Thread.Sleep(1);
        }
    }

    private sealed class CallerThread
    {
        public Thread? Thread { get; set; }

        public ManualResetEventSlim Done { get; } = new();

        public Exception? Failure { get; set; }
    }

    /// <summary>A sync action that blocks until the test ends it, with success or an error.</summary>
    private sealed class HandEndedSyncs
    {
        private readonly BlockingCollection<StartedSync> _started = [];

        public void Run(int slot)
        {
            var sync = new StartedSync(slot, Thread.CurrentThread);
            _started.Add(sync);
            sync.Outcome.Task.Wait();
            sync.Ended.Set();
            if (sync.Outcome.Task.Result is { } error)
            {
                throw error;
            }
        }

        public StartedSync NextStarted()
        {
            Assert.True(_started.TryTake(out var sync, s_patience), "no sync started");
            return sync;
        }

        /// <summary>True if a sync starts within <paramref name="wait"/> (one that must not start would start at once).</summary>
        public bool StartsWithin(TimeSpan wait) => _started.TryTake(out _, wait);
    }

    private sealed class StartedSync(int slot, Thread thread)
    {
        public int Slot { get; } = slot;

        /// <summary>The thread that runs the sync.</summary>
        public Thread Thread { get; } = thread;

        public TaskCompletionSource<Exception?> Outcome { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ManualResetEventSlim Ended { get; } = new();

        public void End(Exception? error = null) => Outcome.SetResult(error);
    }
}
