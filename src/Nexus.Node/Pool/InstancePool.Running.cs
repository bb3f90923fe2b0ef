// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using Nexus.Node.Transports;
using Nexus.Sandbox;

namespace Nexus.Node.Pool;

/// <summary>One invocation on an acquired instance: hand-over, timeout and exit watch, the START/END/REPORT log lines.</summary>
public sealed partial class InstancePool
{
    /// <summary>The longest an invocation's end waits for its sandbox's output to be taken in (<see cref="ISandboxInstance.DrainOutput"/>).</summary>
    internal static readonly TimeSpan OutputDrainLimit = TimeSpan.FromMilliseconds(5);

    private async Task<InvocationOutcome> RunAsync(Instance instance, ReadOnlyMemory<byte> payload, InvocationRequest request, bool cold, long started, InvocationTimeline timeline)
    {
        var requestId = request.RequestId;
        var function = instance.Function;
        var timeout = function.Manifest.Timeout;
        if (!cold)
        {
            instance.BeginCapture();
        }
        else
        {
            // An init past the init limit used part of this first invocation's timeout.
            timeout -= instance.InitOverrun;
        }

        instance.CurrentRequestId = requestId;
        var logging = function.Manifest.Logging;
        var now = _time.GetUtcNow();
        if (logging.WritesPlatformInfo)
        {
            Log(instance, requestId, logging.Json ? PlatformRecord.Start(requestId, now) : $"START RequestId: {requestId} Version: $LATEST");
        }

        var runStarted = _time.GetTimestamp();
        var invocation = new Invocation(requestId, payload, now + timeout, function.Arn)
        {
            Timeline = timeline,
            TraceId = request.TraceId ?? LambdaTrace.NewHeader(now),
            ClientContext = request.ClientContext,
        };
        var sandbox = instance.Sandbox!;
        var deadline = instance.Deadline ??= new InvocationDeadline(_time, _shutdown.Token);
        var limit = deadline.Begin(timeout);
        timeline.Invoking = Stopwatch.GetTimestamp();

        // No cancellation token: a transport's wait ends with its instance, which is stopped whenever the invocation ends
        // without the transport's answer (timeout, exit, shutdown, a broken protocol).
        var result = instance.Transport!.InvokeAsync(invocation, CancellationToken.None);
        var first = await Task.WhenAny(result, sandbox.Exited, limit);
        timeline.Resumed = Stopwatch.GetTimestamp();
        deadline.End();

        InvocationResult answer;
        string outcome;
        var reusable = false;
        if (result.IsCompletedSuccessfully)
        {
            answer = result.Result;
            outcome = answer.IsError ? "error" : "success";
            reusable = true;
        }
        else if (first == sandbox.Exited)
        {
            var exit = await sandbox.Exited;
            answer = ExitError(requestId, exit, instance);
            outcome = exit.OutOfMemory ? "oom" : "crashed";
        }
        else if (first == limit && !_shutdown.IsCancellationRequested)
        {
            answer = InvocationResult.Error("Sandbox.Timedout", $"RequestId: {requestId} Error: Task timed out after {function.Manifest.Timeout.TotalSeconds:0.00} seconds");
            outcome = "timeout";
            _metrics.Error("timeout");
        }
        else if (_shutdown.IsCancellationRequested || result.Exception is null)
        {
            // Not the function's failure: its log says the node stopped it ("instance stopped (shutdown)"), not that it crashed.
            answer = InvocationResult.Error("Runtime.NodeShutdown", $"RequestId: {requestId} Error: the node is shutting down: the invocation was stopped");
            outcome = "shutdown";
        }
        else
        {
            // The transport failed under a live sandbox: the runtime broke its protocol (the channel was closed on it:
            // a flood, a lying index, a stall). The instance is stopped below (not reusable), as Lambda stops a runtime
            // that misbehaves, and reported the way Lambda reports a runtime that died.
            var why = result.Exception.GetBaseException().Message;
            answer = InvocationResult.Error("Runtime.ExitError", $"RequestId: {requestId} Error: Runtime exited with error: signal: killed (the node stopped it: {why})");
            outcome = "crashed";
        }

        if (!result.IsCompleted)
        {
            // Abandoned: it fails once the instance is stopped; observed so that the failure is not reported as unobserved.
            _ = result.ContinueWith(static t => t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        }

        var runTime = _time.GetElapsedTime(runStarted);

        // What the function printed is logged, with its request id, before the invocation's END line and in its --log
        // tail (Lambda's contract). The runtime writes it before it posts the result, so it is already in the output
        // sockets: the drain only takes in what the sandbox's output readers have not read yet. Its bound lets a sandbox
        // that keeps writing (a thread of the handler's, a timed-out loop) delay the END line by a few ms at most.
        sandbox.DrainOutput(OutputDrainLimit);
        if (answer.IsError && outcome != "error")
        {
            Log(instance, requestId, System.Text.Encoding.UTF8.GetString(answer.Payload.Span));
        }

        try
        {
            instance.MaxMemoryBytes = Math.Max(instance.MaxMemoryBytes, sandbox.ReadPeakMemoryBytes());
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidOperationException)
        {
            // The instance is gone (crash, OOM): its last figure stands.
        }

        if (logging.WritesPlatformInfo)
        {
            // END and REPORT as one entry: one queued log write, one capture.
            Log(instance, requestId, logging.Json
                ? PlatformRecord.Report(requestId, _time.GetUtcNow(), runTime, function.Manifest.MemoryMb, instance.MaxMemoryBytes, instance.PendingInitDuration, outcome)
                : ReportLine.Format(requestId, runTime, function.Manifest.MemoryMb, instance.MaxMemoryBytes, instance.PendingInitDuration, outcome is "timeout" or "oom" or "crashed" ? outcome : null));
        }

        instance.PendingInitDuration = null;
        var tail = instance.EndCapture();
        timeline.Reported = Stopwatch.GetTimestamp();
        Release(instance, reusable, outcome);
        var duration = _time.GetElapsedTime(started);
        _metrics.Invocation(function.Name, outcome, cold, duration);
        timeline.Finished = Stopwatch.GetTimestamp();
        return new InvocationOutcome(answer, outcome, cold, duration, instance.Id, tail) { Timeline = timeline };
    }

    private static InvocationResult ExitError(string requestId, SandboxExit exit, Instance instance)
    {
        var how = exit.Signal is { } signal ? $"signal: {SignalName(signal)}" : $"exit status {exit.ExitCode ?? -1}";
        return exit.OutOfMemory
            ? InvocationResult.Error("Runtime.OutOfMemory", $"RequestId: {requestId} Error: Runtime exited with error: {how} (out of memory: the function exceeded its {instance.Function.Manifest.MemoryMb} MB)")
            : InvocationResult.Error("Runtime.ExitError", $"RequestId: {requestId} Error: Runtime exited with error: {how}");
    }

    private static string SignalName(int signal) => signal switch
    {
        9 => "killed",
        6 => "aborted",
        11 => "segmentation fault",
        15 => "terminated",
        _ => signal.ToString(CultureInfo.InvariantCulture),
    };

    private void Log(Instance instance, string requestId, string line)
    {
        _logs.Write(instance.Function.Name, instance.Id, requestId, line);
        instance.Capture(line);
    }
}
