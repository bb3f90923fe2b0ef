// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Nexus.Node.Pool;

/// <summary>
/// An invocation's system log records in Lambda's JSON log format (a function's <c>logging: format: JSON</c>), in place
/// of the Text format's START and END/REPORT lines (<see cref="ReportLine"/>): <c>platform.start</c> and
/// <c>platform.report</c>, each one JSON object <c>{"time", "type", "record"}</c>, the report's figures as the REPORT
/// line's (duration to the hundredth of a millisecond, billed duration in whole milliseconds).
/// </summary>
public static class PlatformRecord
{
    public static string Start(string requestId, DateTimeOffset at) => Write(at, "platform.start", w =>
    {
        w.WriteString("requestId", requestId);
        w.WriteString("version", "$LATEST");
    });

    /// <summary>
    /// The invocation's report: <c>status</c> is <c>success</c>, <c>error</c> (the handler failed), <c>timeout</c>, or
    /// <c>failure</c> with the <c>errorType</c> when the runtime did not answer (it ran out of memory or crashed).
    /// </summary>
    public static string Report(string requestId, DateTimeOffset at, TimeSpan duration, int memoryMb, long maxMemoryBytes, TimeSpan? initDuration, string outcome) =>
        Write(at, "platform.report", w =>
        {
            w.WriteString("requestId", requestId);
            w.WriteStartObject("metrics");
            w.WriteNumber("durationMs", Math.Round(Math.Max(duration.TotalMilliseconds, 0), 2, MidpointRounding.AwayFromZero));
            w.WriteNumber("billedDurationMs", (Math.Max(duration.Ticks, 0) + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond);
            w.WriteNumber("memorySizeMB", memoryMb);
            w.WriteNumber("maxMemoryUsedMB", maxMemoryBytes / (1024 * 1024));
            if (initDuration is { } init)
            {
                w.WriteNumber("initDurationMs", Math.Round(init.TotalMilliseconds, 2, MidpointRounding.AwayFromZero));
            }

            w.WriteEndObject();
            w.WriteString("status", outcome switch
            {
                "success" or "error" or "timeout" => outcome,
                _ => "failure",
            });
            if (outcome is "oom" or "crashed")
            {
                w.WriteString("errorType", outcome == "oom" ? "Runtime.OutOfMemory" : "Runtime.ExitError");
            }
        });

    private static string Write(DateTimeOffset at, string type, Action<Utf8JsonWriter> record)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("time", at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture));
            w.WriteString("type", type);
            w.WriteStartObject("record");
            record(w);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
