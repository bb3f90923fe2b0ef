// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Node.Transports;

/// <summary>One invocation handed to an instance: the event JSON and the deadline the runtime reports to the handler.</summary>
public sealed record Invocation(string RequestId, ReadOnlyMemory<byte> Payload, DateTimeOffset Deadline, string FunctionArn)
{
    /// <summary>Where the pool and the transport stamp this invocation's stages.</summary>
    public InvocationTimeline Timeline { get; init; } = new();

    /// <summary>The X-Ray trace header the function sees in <c>_X_AMZN_TRACE_ID</c> (<see cref="LambdaTrace"/>); null: none.</summary>
    public string? TraceId { get; init; }

    /// <summary>The caller's client context as compact JSON (<see cref="LambdaJson.DecodeClientContext"/>); null: none sent.</summary>
    public string? ClientContext { get; init; }
}

/// <summary>
/// What the caller of one invocation hands it beside the event: the request id, its X-Ray trace header (null: the
/// node starts a new trace) and its client context (compact JSON; null: none).
/// </summary>
public sealed record InvocationRequest(string RequestId, string? TraceId = null, string? ClientContext = null)
{
    /// <summary>
    /// True: when the function or the node is at its concurrency limit the invocation waits for an instance, for at
    /// most the function's timeout, before it is throttled. False (the default): it is throttled at once, as Lambda
    /// answers a synchronous Invoke over the limit with 429 and leaves the retry to the caller (boto3 and the AWS CLI
    /// retry it with backoff). The node's event queue waits, as Lambda's asynchronous queue holds an event until
    /// concurrency frees up; so do the in-process benchmarks, which replay a trace against the pool.
    /// </summary>
    public bool WaitsAtLimit { get; init; }

    /// <summary>
    /// With <see cref="WaitsAtLimit"/>, the longest it waits when shorter than the function's timeout (null: the
    /// timeout). The event queue waits briefly and then defers the event, so a function at its limit holds none of the
    /// node's few event workers for long while other functions' events queue behind it.
    /// </summary>
    public TimeSpan? WaitAtLimitAtMost { get; init; }
}

/// <summary>
/// What the runtime answered: the result JSON, or (when <see cref="ErrorType"/> is set) a Lambda-shaped error
/// payload <c>{"errorMessage","errorType","stackTrace"}</c>.
/// </summary>
public sealed record InvocationResult(ReadOnlyMemory<byte> Payload, string? ErrorType)
{
    public bool IsError => ErrorType is not null;

    /// <summary>An error produced by the node itself (timeout, OOM, crash), shaped like the runtime's.</summary>
    public static InvocationResult Error(string errorType, string errorMessage) =>
        new(LambdaJson.ErrorPayload(errorType, errorMessage), errorType);
}

/// <summary>
/// <see cref="Stopwatch"/> timestamps of one invocation's stages on its way through the node, for the benchmark's
/// split of the node's overhead (0: the stage was not reached, or is not known for this transport). The pool stamps
/// its own stages; the transport stamps the hand-over and the result, and the sandbox's own two stamps when the
/// runtime reports them and they are plausible.
/// </summary>
public sealed class InvocationTimeline
{
    /// <summary>The Invoke API took the request, before reading its body (0: invoked in process).</summary>
    public long ApiEntered { get; set; }

    /// <summary>The Invoke API had handed the response to Kestrel (0: invoked in process).</summary>
    public long ApiResponded { get; set; }

    /// <summary>The pool entered.</summary>
    public long Entered { get; set; }

    /// <summary>The event was searched for the inputs to prefetch (nexus mode; inline for a small event), before the pool is asked.</summary>
    public long HintsSearched { get; set; }

    /// <summary>The pool handed over an instance (warm: at once; cold: once its sandbox's init is over).</summary>
    public long Acquired { get; set; }

    /// <summary>The transport was told to start prefetching the event's inputs (nexus mode: hints parsed, fetches queued).</summary>
    public long PrefetchBegun { get; set; }

    /// <summary>The pool logged START and called the transport.</summary>
    public long Invoking { get; set; }

    /// <summary>The event was handed to the sandbox: its last chunk's completion posted (the doorbell not yet rung), or the long-poll answered.</summary>
    public long Handed { get; set; }

    /// <summary>
    /// The doorbell write after the hand-over returned (channel only). Not a stage of its own: the sandbox may have run
    /// (and stamped <see cref="PickedUp"/>) before it returned, so it overlaps the sandbox's time.
    /// </summary>
    public long Rung { get; set; }

    /// <summary>The sandbox had the event in hand (its clock, checked to lie within the node's stamps).</summary>
    public long PickedUp { get; set; }

    /// <summary>The sandbox submitted the result (its clock, checked as <see cref="PickedUp"/>).</summary>
    public long Submitted { get; set; }

    /// <summary>The node read the result.</summary>
    public long Arrived { get; set; }

    /// <summary>The transport had read and checked the result and completed the pool's wait (its continuation may run inline from here).</summary>
    public long Completed { get; set; }

    /// <summary>The pool's invocation resumed after the result arrived (on whichever thread its continuation ran).</summary>
    public long Resumed { get; set; }

    /// <summary>The pool had read the peak memory and queued the END and REPORT lines.</summary>
    public long Reported { get; set; }

    /// <summary>The pool was done: log lines and REPORT written, the instance released.</summary>
    public long Finished { get; set; }

    /// <summary>
    /// Time the invocation spent in the sandbox: from the hand-over to the result's arrival. Holds the handler, its
    /// storage calls and the runtime's own work; the node's overhead is the rest of an invocation's wall time. Zero when
    /// the node produced the result itself.
    /// </summary>
    public TimeSpan SandboxTime => Handed != 0 && Arrived >= Handed ? Stopwatch.GetElapsedTime(Handed, Arrived) : TimeSpan.Zero;

    /// <summary>
    /// Records the sandbox's own stamps (nanoseconds of CLOCK_MONOTONIC, the clock <see cref="Stopwatch"/> reads on
    /// Linux) when they are ordered and lie between the hand-over and the arrival; anything else (another clock, as in a
    /// micro-VM guest, or a sandbox that lies) is dropped: they only split a figure the node measures itself.
    /// </summary>
    public void SetSandboxStamps(long pickedUpNs, long submittedNs)
    {
        var pickedUp = ToTimestamp(pickedUpNs);
        var submitted = ToTimestamp(submittedNs);
        if (Handed != 0 && Arrived != 0 && Handed <= pickedUp && pickedUp <= submitted && submitted <= Arrived)
        {
            PickedUp = pickedUp;
            Submitted = submitted;
        }
    }

    private static long ToTimestamp(long nanoseconds) =>
        Stopwatch.Frequency == 1_000_000_000 ? nanoseconds : (long)(nanoseconds * (Stopwatch.Frequency / 1e9));
}
