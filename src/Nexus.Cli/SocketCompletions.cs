// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Cli;

/// <summary>
/// The node's socket completions run on the runtime's socket event threads instead of each hopping to the thread pool.
/// Per warm hello-s3 call the backend's HTTP responses (the revalidating HEAD, the write-back PUT) were each a
/// thread-pool work item, and every work item the pool dequeues wakes a second worker that finds nothing, spins and
/// sleeps again (perf: ~12 such episodes, ~60 context switches per call; docs/evaluation.md). What then runs on an event
/// thread is the code after an awaited socket operation: HttpClient's parsing and the backend's short continuations;
/// the write-back journal's blocking syncs move to the pool first (<c>SpoolJournal.LeaveNonPoolThreadAsync</c>), and
/// Kestrel still dispatches its application code to the pool.
/// </summary>
internal static class SocketCompletions
{
    /// <summary>The runtime's switch (System.Net.Sockets reads it once, when the process's first socket is made).</summary>
    public const string InlineVariable = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    /// <summary>Turns inline completions on unless the environment already chose (<c>0</c> turns them off).</summary>
    public static void RunInlineUnlessSet()
    {
        if (Environment.GetEnvironmentVariable(InlineVariable) is null)
        {
            Environment.SetEnvironmentVariable(InlineVariable, "1");
        }
    }
}
