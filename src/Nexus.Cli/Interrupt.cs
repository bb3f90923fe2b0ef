// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;

namespace Nexus.Cli;

/// <summary>
/// Ctrl+C and SIGTERM become a cancelled token, so that a long command stops its sandboxes and says what it kept
/// before it exits; a second Ctrl+C quits at once.
/// </summary>
public sealed class Interrupt : IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly PosixSignalRegistration _interrupt;
    private readonly PosixSignalRegistration _terminate;

    public Interrupt()
    {
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
    }

    public CancellationToken Token => _cancel.Token;

    /// <summary>What stopped the command, for its last line.</summary>
    public string Signal { get; private set; } = "";

    public void Dispose()
    {
        _interrupt.Dispose();
        _terminate.Dispose();
        _cancel.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (_cancel.IsCancellationRequested)
        {
            // The second signal: the default action (the process ends now).
            return;
        }

        context.Cancel = true;
        Signal = context.Signal == PosixSignal.SIGINT ? "Ctrl+C" : "SIGTERM";
        Console.Error.WriteLine();
        Console.Error.WriteLine($"nexus: {Signal}: stopping and cleaning up (Ctrl+C again to quit at once)");
        _cancel.Cancel();
    }
}
