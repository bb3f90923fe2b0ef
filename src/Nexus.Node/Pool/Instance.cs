// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Node.Transports;
using Nexus.Sandbox;

namespace Nexus.Node.Pool;

internal enum InstanceState
{
    Starting,
    Idle,
    Busy,
    Stopping,
}

/// <summary>One sandbox of a function and what the pool knows about it. Mutable state is guarded by the pool's lock.</summary>
internal sealed class Instance(string id, DeployedFunction function)
{
    private const int TailBytes = 4096;

    private readonly Lock _captureLock = new();
    private StringBuilder? _capture;
    private string? _currentRequestId;

    public string Id { get; } = id;

    public DeployedFunction Function { get; } = function;

    public ISandboxInstance? Sandbox { get; set; }

    public IInvocationTransport? Transport { get; set; }

    public InstanceState State { get; set; } = InstanceState.Starting;

    /// <summary>The time limit of its invocations, made at its first; disposed when the instance stops.</summary>
    public InvocationDeadline? Deadline { get; set; }

    /// <summary>Set when a newer revision was deployed or the function removed: stop after the current invocation.</summary>
    public bool Retired { get; set; }

    public DateTimeOffset IdleSince { get; set; }

    /// <summary>Whether its transport gave memory back during the current idle spell.</summary>
    public bool IdleMemoryReleased { get; set; }

    /// <summary>
    /// How much of its first invocation's timeout its init took past the init limit (Lambda retries such an init at the
    /// first invocation, within the function's timeout): that invocation's handler gets the rest.
    /// </summary>
    public TimeSpan InitOverrun { get; set; }

    /// <summary>Init duration, reported on the first invocation only (as Lambda's REPORT line does).</summary>
    public TimeSpan? PendingInitDuration { get; set; }

    public long MaxMemoryBytes { get; set; }

    /// <summary>The request the instance works on, for log lines; null when idle.</summary>
    public string? CurrentRequestId
    {
        get => Volatile.Read(ref _currentRequestId);
        set => Volatile.Write(ref _currentRequestId, value);
    }

    /// <summary>Completes once the instance is stopped and its sandbox removed.</summary>
    public TaskCompletionSource Stopped { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public void BeginCapture()
    {
        lock (_captureLock)
        {
            _capture = new StringBuilder();
        }
    }

    public void Capture(string line)
    {
        lock (_captureLock)
        {
            if (_capture is null)
            {
                return;
            }

            _capture.Append(line).Append('\n');

            // Keep the buffer bounded however much the handler prints: only the tail is ever returned.
            if (_capture.Length > 4 * TailBytes)
            {
                _capture.Remove(0, _capture.Length - TailBytes);
            }
        }
    }

    /// <summary>Ends the capture and returns its last 4 KiB (UTF-8), as X-Amz-Log-Result carries.</summary>
    public byte[] EndCapture()
    {
        string text;
        lock (_captureLock)
        {
            text = _capture?.ToString() ?? "";
            _capture = null;
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        return bytes.Length <= TailBytes ? bytes : bytes[^TailBytes..];
    }
}
