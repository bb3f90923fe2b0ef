// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Runtime.CompilerServices;

namespace Nexus.Node.Pool;

/// <summary>
/// An invocation's END and REPORT lines in Lambda's format, as one entry. Written on every invocation, so the figures are
/// formatted from integers into a stack buffer (one string, no double formatting): the milliseconds with two decimals
/// are the ticks rounded half up to hundredths, which is what formatting <c>TotalMilliseconds</c> with <c>0.00</c> gives
/// (ReportLineTests compares the two).
/// </summary>
public static class ReportLine
{
    /// <summary>
    /// <c>END RequestId: id\nREPORT RequestId: id\tDuration: d ms\tBilled Duration: b ms\tMemory Size: m MB\tMax Memory
    /// Used: u MB</c>, then <c>\tInit Duration: i ms</c> on an instance's first invocation and <c>\tStatus: s</c> when
    /// the runtime did not answer (timeout, oom, crashed).
    /// </summary>
    public static string Format(string requestId, TimeSpan duration, int memoryMb, long maxMemoryBytes, TimeSpan? initDuration, string? status)
    {
        ArgumentNullException.ThrowIfNull(requestId);
        var hundredths = Hundredths(duration);
        var billed = (Math.Max(duration.Ticks, 0) + TimeSpan.TicksPerMillisecond - 1) / TimeSpan.TicksPerMillisecond;
        var text = new DefaultInterpolatedStringHandler(0, 0, CultureInfo.InvariantCulture, stackalloc char[256]);
        text.AppendLiteral("END RequestId: ");
        text.AppendFormatted(requestId);
        text.AppendLiteral("\nREPORT RequestId: ");
        text.AppendFormatted(requestId);
        text.AppendLiteral("\tDuration: ");
        AppendMilliseconds(ref text, hundredths);
        text.AppendLiteral(" ms\tBilled Duration: ");
        text.AppendFormatted(billed);
        text.AppendLiteral(" ms\tMemory Size: ");
        text.AppendFormatted(memoryMb);
        text.AppendLiteral(" MB\tMax Memory Used: ");
        text.AppendFormatted(maxMemoryBytes / (1024 * 1024));
        text.AppendLiteral(" MB");
        if (initDuration is { } init)
        {
            text.AppendLiteral("\tInit Duration: ");
            AppendMilliseconds(ref text, Hundredths(init));
            text.AppendLiteral(" ms");
        }

        if (status is not null)
        {
            text.AppendLiteral("\tStatus: ");
            text.AppendFormatted(status);
        }

        return text.ToStringAndClear();
    }

    // Hundredths of a millisecond, half up (a span here is never negative: a clock that went back counts as zero).
    private static long Hundredths(TimeSpan span)
    {
        const long tick = TimeSpan.TicksPerMillisecond / 100;
        return (Math.Max(span.Ticks, 0) + (tick / 2)) / tick;
    }

    private static void AppendMilliseconds(ref DefaultInterpolatedStringHandler text, long hundredths)
    {
        text.AppendFormatted(hundredths / 100);
        text.AppendLiteral(".");
        text.AppendFormatted(hundredths % 100, "00");
    }
}
