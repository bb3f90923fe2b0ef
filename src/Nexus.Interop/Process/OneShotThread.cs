// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.ExceptionServices;

namespace Nexus.Interop.Process;

/// <summary>
/// Runs work on a thread made for it alone and waits for it: for work that changes what its thread is (joins another
/// namespace, takes a filesystem context of its own), so that the change never reaches a pooled thread and ends with
/// the thread. The work's exception is thrown to the caller with its own stack.
/// </summary>
internal static class OneShotThread
{
    public static T Run<T>(string name, Func<T> work)
    {
        ExceptionDispatchInfo? failure = null;
        T result = default!;
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                failure = ExceptionDispatchInfo.Capture(e);
            }
        })
        { IsBackground = true, Name = name };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
