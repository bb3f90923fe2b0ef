// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.WriteBack;

/// <summary>
/// Group commit for one file: every caller of <see cref="SyncAsync"/> is answered by a sync that started after it called,
/// and callers that arrive while a sync runs share the next one. The caller that finds the file idle syncs on its own
/// thread (a lone writer takes no thread hop); a batch that gathered meanwhile is synced on the thread pool.
/// </summary>
internal sealed class GroupSync(Action sync)
{
    private readonly Lock _lock = new();
    private TaskCompletionSource? _next;
    private bool _running;

    public Task SyncAsync()
    {
        lock (_lock)
        {
            if (_running)
            {
                _next ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                return _next.Task;
            }

            _running = true;
        }

        var failure = Run();
        if (Continue())
        {
            ThreadPool.UnsafeQueueUserWorkItem(static self => self.Loop(), this, preferLocal: false);
        }

        return failure is null ? Task.CompletedTask : Task.FromException(failure);
    }

    private void Loop()
    {
        do
        {
            TaskCompletionSource batch;
            lock (_lock)
            {
                batch = _next!;
                _next = null;
            }

            if (Run() is { } failure)
            {
                batch.SetException(failure);
            }
            else
            {
                batch.SetResult();
            }
        }
        while (Continue());
    }

    /// <summary>True (and still running) when callers gathered during the last sync; otherwise the file goes idle.</summary>
    private bool Continue()
    {
        lock (_lock)
        {
            _running = _next is not null;
            return _running;
        }
    }

    private Exception? Run()
    {
        try
        {
            sync();
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }
}
