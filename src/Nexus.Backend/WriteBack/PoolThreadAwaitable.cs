// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.CompilerServices;

namespace Nexus.Backend.WriteBack;

/// <summary>
/// Awaited, continues on a thread-pool thread: at once when already on one, else queued to the pool. Unlike
/// <c>Task.Yield</c> it ignores a synchronization context (a test runner's runs its own threads) and costs nothing on the
/// pool.
/// </summary>
public readonly struct PoolThreadAwaitable : ICriticalNotifyCompletion
{
    public bool IsCompleted => Thread.CurrentThread.IsThreadPoolThread;

    public PoolThreadAwaitable GetAwaiter() => this;

    public void GetResult()
    {
    }

    public void OnCompleted(Action continuation) =>
        ThreadPool.QueueUserWorkItem(static run => run(), continuation, preferLocal: false);

    public void UnsafeOnCompleted(Action continuation) =>
        ThreadPool.UnsafeQueueUserWorkItem(static run => run(), continuation, preferLocal: false);
}
