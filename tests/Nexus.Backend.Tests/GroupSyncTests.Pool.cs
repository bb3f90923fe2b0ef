// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.WriteBack;

namespace Nexus.Backend.Tests;

/// <summary>
/// <see cref="GroupSync.SyncAsync()"/> from thread-pool callers (puts in the node): a lone caller syncs on its own thread;
/// one that finds a sync running gives its thread back and the group's sync threads run the syncs; the rules of the
/// blocking path hold for them too.
/// </summary>
public sealed partial class GroupSyncTests
{
    [Fact]
    public async Task A_lone_pool_caller_runs_its_sync_on_its_own_thread_as_a_blocking_caller_does()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var caller = PoolCaller(group);

        // No sync ran: handing it to a sync thread would cost it two wake-ups; the call returns only with its sync.
        var sync = syncs.NextStarted();
        Assert.True(sync.Thread.IsThreadPoolThread);
        await Assert.ThrowsAsync<TimeoutException>(() => caller.Returned.WaitAsync(s_settle));

        sync.End();
        await caller.Acknowledged.WaitAsync(s_patience);
        Assert.True(group.Covers(1));
    }

    [Fact]
    public async Task A_pool_caller_that_finds_a_sync_running_gives_its_thread_back_and_its_sync_runs_on_a_sync_thread()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var (blocked, firstSync) = CallerWithSync(group, syncs);
        var caller = PoolCaller(group);

        await caller.Returned.WaitAsync(s_patience);
        Assert.False(syncs.StartsWithin(s_settle));
        firstSync.End();
        Assert.True(blocked.Done.Wait(s_patience));

        var sync = syncs.NextStarted();
        Assert.False(sync.Thread.IsThreadPoolThread);
        Assert.NotSame(blocked.Thread, sync.Thread);
        Assert.False(caller.Acknowledged.IsCompleted);

        sync.End();
        await caller.Acknowledged.WaitAsync(s_patience);
        Assert.True(group.Covers(2));
    }

    [Fact]
    public void A_caller_of_SyncAsync_off_the_pool_runs_its_sync_on_its_own_thread()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var callerThread = Caller(() => group.SyncAsync().AsTask().GetAwaiter().GetResult());

        var sync = syncs.NextStarted();
        Assert.Same(callerThread.Thread, sync.Thread);
        sync.End();
        Assert.True(callerThread.Done.Wait(s_patience));
        Assert.Null(callerThread.Failure);
    }

    [Fact]
    public async Task A_pool_caller_that_comes_while_a_sync_thread_syncs_waits_for_the_next_which_that_thread_starts()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var (blocked, blockedSync) = CallerWithSync(group, syncs);
        var first = PoolCaller(group);
        await first.Returned.WaitAsync(s_patience);
        blockedSync.End();
        var firstSync = syncs.NextStarted();
        Assert.False(firstSync.Thread.IsThreadPoolThread);

        // Its bytes may have missed the running sync; no second sync starts for it while that one runs.
        var second = PoolCaller(group);
        await second.Returned.WaitAsync(s_patience);
        Assert.False(syncs.StartsWithin(s_settle));

        firstSync.End();
        await first.Acknowledged.WaitAsync(s_patience);
        var secondSync = syncs.NextStarted();
        Assert.Same(firstSync.Thread, secondSync.Thread);
        Assert.False(second.Acknowledged.IsCompleted);

        secondSync.End();
        await second.Acknowledged.WaitAsync(s_patience);
        Assert.True(blocked.Done.Wait(s_patience));
        Assert.Equal(3, group.Syncs);
    }

    [Fact]
    public async Task A_pool_caller_continues_on_the_pool_not_on_the_sync_thread()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var (_, blockedSync) = CallerWithSync(group, syncs);
        var call = Task.Factory.StartNew(
            async () =>
            {
                await group.SyncAsync().ConfigureAwait(false);
                return Thread.CurrentThread;
            },
            CancellationToken.None,
            TaskCreationOptions.DenyChildAttach,
            TaskScheduler.Default);

        // Ended once the caller awaits it (its work item returned), so the continuation is the task's to run.
        await call.WaitAsync(s_patience);
        blockedSync.End();
        var sync = syncs.NextStarted();
        Assert.False(sync.Thread.IsThreadPoolThread);
        sync.End();
        var continuedOn = call.Unwrap();
        await continuedOn.WaitAsync(s_patience);
        var continuation = await continuedOn;
        Assert.NotSame(sync.Thread, continuation);
        Assert.True(continuation.IsThreadPoolThread);
    }

    [Fact]
    public async Task Pool_and_blocking_callers_complete_in_start_order_and_a_failed_sync_fails_every_pool_caller_after_it()
    {
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var pooled = PoolCaller(group);
        var firstSync = syncs.NextStarted();

        // A blocking caller runs the next sync itself, on the free slot; a pool caller after it waits for the one after.
        var (blocked, secondSync) = CallerWithSync(group, syncs);
        Assert.Same(blocked.Thread, secondSync.Thread);
        var later = PoolCaller(group);
        await later.Returned.WaitAsync(s_patience);

        // Sync 2 ends first: nobody is answered before sync 1 ends, and a sync thread takes the slot it left for the
        // later pool caller.
        secondSync.End();
        var thirdSync = syncs.NextStarted();
        Assert.False(thirdSync.Thread.IsThreadPoolThread);
        Assert.NotSame(blocked.Thread, thirdSync.Thread);
        WaitUntilBlocked(blocked);
        await Assert.ThrowsAsync<TimeoutException>(() => pooled.Acknowledged.WaitAsync(s_settle));
        Assert.False(blocked.Done.IsSet);

        // Sync 3 succeeds before sync 1 ends: its pool caller waits for sync 1 too, and then it proves nothing.
        thirdSync.End();
        Assert.True(thirdSync.Ended.Wait(s_patience));
        await Assert.ThrowsAsync<TimeoutException>(() => later.Acknowledged.WaitAsync(s_settle));
        firstSync.End(new IOException("EIO"));
        Assert.True(blocked.Done.Wait(s_patience));
        Assert.IsType<IOException>(blocked.Failure);
        await Assert.ThrowsAsync<IOException>(() => pooled.Acknowledged.WaitAsync(s_patience));
        await Assert.ThrowsAsync<IOException>(() => later.Acknowledged.WaitAsync(s_patience));

        // A later pool caller is refused at once, and no sync runs for it.
        await Assert.ThrowsAsync<IOException>(() => PoolCaller(group).Acknowledged.WaitAsync(s_patience));
        Assert.Equal(3, group.Syncs);
        Assert.False(group.Covers(1));
    }

    [Fact]
    public async Task A_pool_caller_for_a_target_waits_only_for_the_sync_that_covers_it_and_gives_its_thread_back_meanwhile()
    {
        // What a retirement waits for: the sync that covers the marks written before it, not a sync of its own.
        var syncs = new HandEndedSyncs();
        var group = new GroupSync(syncs.Run, slots: 2);
        var (first, firstSync) = CallerWithSync(group, syncs);
        firstSync.End();
        Assert.True(first.Done.Wait(s_patience));
        var (_, runningSync) = CallerWithSync(group, syncs);

        // Sync 1 has completed: its target is answered at once, though sync 2 runs.
        var covered = PoolCaller(group, target: 1);
        await covered.Acknowledged.WaitAsync(s_patience);

        // Sync 2 runs and covers target 2: the caller returns, no sync starts for it, and sync 2's end answers it.
        var waiting = PoolCaller(group, target: 2);
        await waiting.Returned.WaitAsync(s_patience);
        Assert.False(syncs.StartsWithin(s_settle));
        Assert.False(waiting.Acknowledged.IsCompleted);
        runningSync.End();
        await waiting.Acknowledged.WaitAsync(s_patience);
        Assert.Equal(2, group.Syncs);
    }

    /// <summary>Calls SyncAsync on a thread-pool thread: Returned completes when the call returns, Acknowledged when its task does.</summary>
    private static PooledCall PoolCaller(GroupSync group, long? target = null)
    {
        var call = Task.Factory.StartNew(() => (target is { } goal ? group.SyncAsync(goal) : group.SyncAsync()).AsTask(), CancellationToken.None, TaskCreationOptions.DenyChildAttach, TaskScheduler.Default);
        return new PooledCall(call, call.Unwrap());
    }

    private sealed record PooledCall(Task Returned, Task Acknowledged);
}
