// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Functions;

/// <summary>
/// A function's log format and levels, as Lambda's logging configuration has them (LoggingConfig): the Text format
/// (Lambda's default: each <c>logging</c> record as a tab-separated line, START/END/REPORT lines), or JSON (each
/// record a JSON object; START and REPORT as <c>platform.*</c> JSON records), whose levels filter the function's
/// records (<see cref="ApplicationLogLevel"/>) and the node's (<see cref="SystemLogLevel"/>). Levels are set only with
/// JSON, as on Lambda.
/// </summary>
public sealed record FunctionLogging(bool Json, string ApplicationLogLevel, string SystemLogLevel)
{
    /// <summary>Lambda's application log levels, least severe first (TRACE is Python's DEBUG, FATAL its CRITICAL).</summary>
    public static readonly IReadOnlyList<string> ApplicationLevels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

    /// <summary>Lambda's system log levels, least severe first.</summary>
    public static readonly IReadOnlyList<string> SystemLevels = ["DEBUG", "INFO", "WARN"];

    /// <summary>Lambda's default: Text, no levels to filter by.</summary>
    public static readonly FunctionLogging Text = new(false, "INFO", "INFO");

    /// <summary>JSON with Lambda's default levels.</summary>
    public static readonly FunctionLogging JsonDefaults = new(true, "INFO", "INFO");

    /// <summary>Whether the node writes its INFO records (START, END, REPORT): always in Text; in JSON unless the system level is WARN.</summary>
    public bool WritesPlatformInfo => !Json || SystemLogLevel != "WARN";
}
