// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Nexus.Functions;
using Nexus.Node.Pool;
using Nexus.Node.Transports;

namespace Nexus.Node.Tests;

public sealed partial class InstancePoolTests
{
    private static string ErrorType(InvocationOutcome outcome)
    {
        using var doc = JsonDocument.Parse(outcome.Result.Payload);
        return doc.RootElement.GetProperty("errorType").GetString()!;
    }

    private static string ErrorMessage(InvocationOutcome outcome)
    {
        using var doc = JsonDocument.Parse(outcome.Result.Payload);
        return doc.RootElement.GetProperty("errorMessage").GetString()!;
    }

    [Fact]
    public async Task SequentialInvocationsReuseOneWarmInstance()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function();
        var first = await f.InvokeAsync(fn, """{"a":1}""");
        var second = await f.InvokeAsync(fn, """{"a":2}""");

        Assert.True(first.ColdStart);
        Assert.False(second.ColdStart);
        Assert.Equal(first.InstanceId, second.InstanceId);
        Assert.Equal("""{"a":2}""", Encoding.UTF8.GetString(second.Result.Payload.Span));
        Assert.Single(f.Driver.Started);
        Assert.Equal("success", second.Outcome);
    }

    [Fact]
    public async Task PrefetchBeginsBeforeAColdSandboxStartsAndForEveryWarmInvocation()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function();
        await f.InvokeAsync(fn, """{"a":1}""");
        await f.InvokeAsync(fn, """{"a":2}""");

        var transport = Assert.Single(f.Transports.Created);
        Assert.Equal([("""{"a":1}""", false), ("""{"a":2}""", true)], transport.Prefetches);
    }

    [Fact]
    public async Task StoppingIdleInstancesMakesTheNextInvocationCold()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function();
        var first = await f.InvokeAsync(fn);
        await f.Pool.StopIdleAsync(fn.Name);
        var second = await f.InvokeAsync(fn);

        Assert.True(second.ColdStart);
        Assert.NotEqual(first.InstanceId, second.InstanceId);
        Assert.Equal(2, f.Driver.Started.Count);
    }

    [Fact]
    public async Task SpecCarriesTheContractEnvironmentAndLimits()
    {
        await using var f = new PoolFixture();
        var fn = PoolFixture.Function(memory: 256) with
        {
            Manifest = PoolFixture.Function().Manifest with { MemoryMb = 256, Cpus = 0.5, Environment = new Dictionary<string, string> { ["INPUT_KEY"] = "k" } },
        };
        await f.InvokeAsync(fn);
        var spec = Assert.Single(f.Driver.Started).Spec;
        Assert.Equal(["python3", "-m", "nexus_runtime"], spec.Command);
        Assert.Equal("/var/task", spec.WorkingDirectory);
        Assert.Equal("/var/task", spec.ReadOnlyMounts["/code/f"]);
        Assert.Equal("/rootfs", spec.RootfsPath);
        Assert.Equal(256, spec.MemoryMb);

        // The init runs on a full CPU; the manifest's cpus apply once it is over.
        Assert.Equal(1.0, spec.Cpus);
        Assert.Equal(0.5, f.Driver.Started.Single().CpuLimit);
        Assert.Equal("/opt/nexus/runtime", spec.Environment["PYTHONPATH"]);
        Assert.Equal("baseline", spec.Environment["NEXUS_IO"]);
        Assert.Equal("handler.handler", spec.Environment["_HANDLER"]);
        Assert.Equal("f-r1", spec.TemplateKey);
        Assert.Contains("AWS_LAMBDA_LOG_STREAM_NAME", spec.InstanceVariables);
        Assert.Contains("FAKE_TRANSPORT", spec.InstanceVariables);
        Assert.Equal("/var/task", spec.Environment["LAMBDA_TASK_ROOT"]);
        Assert.Equal("f", spec.Environment["AWS_LAMBDA_FUNCTION_NAME"]);
        Assert.Equal("256", spec.Environment["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"]);
        Assert.Equal("$LATEST", spec.Environment["AWS_LAMBDA_FUNCTION_VERSION"]);
        Assert.Equal("us-east-1", spec.Environment["AWS_REGION"]);
        Assert.Equal("us-east-1", spec.Environment["AWS_DEFAULT_REGION"]);
        Assert.Equal("AWS_Lambda_python3.11", spec.Environment["AWS_EXECUTION_ENV"]);
        Assert.Equal("on-demand", spec.Environment["AWS_LAMBDA_INITIALIZATION_TYPE"]);
        Assert.Equal(":UTC", spec.Environment["TZ"]);
        Assert.Equal("k", spec.Environment["INPUT_KEY"]);
        Assert.Equal("1", spec.Environment["FAKE_TRANSPORT"]);
    }

    [Fact]
    public async Task LogTailHoldsStartEndReportAndHandlerOutput()
    {
        await using var f = new PoolFixture();
        f.Transports.Handler = (inv, t, _) =>
        {
            t.Instance!.Spec.OnOutput!("hello from the handler", false);
            return Task.FromResult(new InvocationResult(inv.Payload.ToArray(), null));
        };
        var outcome = await f.InvokeAsync(PoolFixture.Function());
        var tail = Encoding.UTF8.GetString(outcome.LogTail);
        Assert.Contains("START RequestId:", tail, StringComparison.Ordinal);
        Assert.Contains("hello from the handler", tail, StringComparison.Ordinal);
        Assert.Contains("END RequestId:", tail, StringComparison.Ordinal);
        Assert.Contains("REPORT RequestId:", tail, StringComparison.Ordinal);
        Assert.Contains("Init Duration:", tail, StringComparison.Ordinal);
        Assert.Contains("Memory Size: 128 MB", tail, StringComparison.Ordinal);
        var log = string.Join("\n", f.Logs.Tail("f", 100));
        Assert.Contains("hello from the handler", log, StringComparison.Ordinal);
        Assert.Contains(outcome.InstanceId, log, StringComparison.Ordinal);
    }

    /// <summary>
    /// A function with Lambda's JSON log format gets its runtime's variables (AWS_LAMBDA_LOG_FORMAT, AWS_LAMBDA_LOG_LEVEL)
    /// and the node's records as JSON platform.start / platform.report in place of START, END and REPORT; with the system
    /// level WARN, none of them.
    /// </summary>
    [Fact]
    public async Task TheJsonLogFormatWritesPlatformRecordsAndTheSystemLevelFiltersThem()
    {
        await using var f = new PoolFixture();
        var json = PoolFixture.Function() with { Manifest = PoolFixture.Function().Manifest with { Logging = new FunctionLogging(true, "DEBUG", "INFO") } };
        var outcome = await f.InvokeAsync(json);
        var spec = f.Driver.Started.Single().Spec;
        Assert.Equal(("JSON", "DEBUG"), (spec.Environment["AWS_LAMBDA_LOG_FORMAT"], spec.Environment["AWS_LAMBDA_LOG_LEVEL"]));
        var lines = Encoding.UTF8.GetString(outcome.LogTail).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.DoesNotContain(lines, l => l.Contains("RequestId:", StringComparison.Ordinal));
        var records = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(["platform.start", "platform.report"], records.Select(r => r.GetProperty("type").GetString()));
        var report = records[1].GetProperty("record");
        Assert.Equal((outcome.Result.IsError ? "error" : "success", 128), (report.GetProperty("status").GetString(), report.GetProperty("metrics").GetProperty("memorySizeMB").GetInt32()));
        Assert.True(report.GetProperty("metrics").TryGetProperty("initDurationMs", out _));
        Assert.Equal(records[0].GetProperty("record").GetProperty("requestId").GetString(), report.GetProperty("requestId").GetString());

        var quiet = json with { Manifest = json.Manifest with { Name = "quiet", Logging = new FunctionLogging(true, "INFO", "WARN") } };
        Assert.Empty((await f.InvokeAsync(quiet)).LogTail.ToArray());
    }

    /// <summary>
    /// Output the sandbox wrote before its result but that the node's output reader had not read yet (the traceback
    /// the runtime writes just before it posts an error) is logged with the invocation's request id, before its END
    /// line, and is in its --log tail: the pool drains the sandbox's output before END. Without the drain the lines
    /// were missing from the tail and the test failed (tried once).
    /// </summary>
    [Fact]
    public async Task OutputWrittenBeforeTheResultIsLoggedBeforeEnd()
    {
        await using var f = new PoolFixture();
        f.Transports.Handler = (inv, t, _) =>
        {
            t.Instance!.UnreadOutput.Enqueue("[ERROR] ValueError: boom");
            t.Instance.UnreadOutput.Enqueue("Traceback (most recent call last):");
            return Task.FromResult(InvocationResult.Error("ValueError", "boom"));
        };
        var fn = PoolFixture.Function();
        foreach (var _ in Enumerable.Range(0, 2))
        {
            var outcome = await f.InvokeAsync(fn);
            var tail = Encoding.UTF8.GetString(outcome.LogTail);
            var traceback = tail.IndexOf("Traceback (most recent call last):", StringComparison.Ordinal);
            Assert.True(traceback >= 0, tail);
            Assert.True(traceback < tail.IndexOf("END RequestId:", StringComparison.Ordinal), tail);
        }

        var log = f.Logs.Tail("f", 100);
        var ends = log.Select((line, i) => (line, i)).Where(l => l.line.Contains("END RequestId: ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, ends.Count);
        foreach (var (end, at) in ends)
        {
            var requestId = end[(end.IndexOf("END RequestId: ", StringComparison.Ordinal) + "END RequestId: ".Length)..].Trim();
            var traceback = Assert.Single(log, l => l.Contains("Traceback", StringComparison.Ordinal) && l.Contains(" " + requestId + " ", StringComparison.Ordinal));
            Assert.True(log.ToList().IndexOf(traceback) < at, string.Join("\n", log));
        }
    }

    [Fact]
    public async Task DisposeStopsEveryInstanceIncludingBusyOnes()
    {
        var f = new PoolFixture();
        var started = new TaskCompletionSource();
        await f.InvokeAsync(PoolFixture.Function("idle"));
        f.Transports.Handler = async (_, _, ct) =>
        {
            started.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            throw new InvalidOperationException("unreachable");
        };
        var busy = f.InvokeAsync(PoolFixture.Function("busy"));
        await started.Task;
        await f.DisposeAsync();
        Assert.All(f.Driver.Started, i => Assert.True(i.Stopped));
        Assert.All(f.Transports.Created, t => Assert.True(t.Disposed));
        var stopped = await busy;
        Assert.Equal("shutdown", stopped.Outcome);
        Assert.Equal("Runtime.NodeShutdown", stopped.Result.ErrorType);
    }
}
