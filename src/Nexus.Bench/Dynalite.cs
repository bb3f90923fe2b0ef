// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Nexus.Bench;

/// <summary>
/// dynalite (npm, installed by scripts/setup), a DynamoDB implementation on LevelDB that nobody here wrote: the DynamoDB
/// of <c>nexus bench compare --dynamodb</c> and of the generic path's and signing proxy's tests. In memory, on a free port.
/// </summary>
public sealed class Dynalite : IAsyncDisposable
{
    public const string CliPath = "/opt/nexus/dynalite/node_modules/dynalite/cli.js";

    /// <summary>Ports tried before giving up when each was taken between finding it free and dynalite binding it.</summary>
    internal const int MaxPortAttempts = 5;

    private readonly Process _process;

    private Dynalite(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    /// <summary>The port dynalite listens on.</summary>
    public int Port { get; }

    /// <summary>Its address over loopback.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Starts dynalite listening on <paramref name="address"/> (loopback; 0.0.0.0: every address of the host);
    /// <paramref name="tableStateMs"/> is how long a table stays CREATING or DELETING.
    /// </summary>
    public static Task<Dynalite> StartAsync(string address = "127.0.0.1", int tableStateMs = 50, CancellationToken cancellationToken = default) =>
        StartAsync(address, tableStateMs, FreeLoopbackPort, cancellationToken);

    /// <summary>As <see cref="StartAsync(string, int, CancellationToken)"/>, with each attempt's port from <paramref name="pickPort"/>.</summary>
    internal static async Task<Dynalite> StartAsync(string address, int tableStateMs, Func<int> pickPort, CancellationToken cancellationToken)
    {
        if (!File.Exists(CliPath))
        {
            throw new InvalidOperationException($"dynalite is missing at {CliPath} (scripts/setup installs it from npm)");
        }

        // dynalite cannot listen on port 0 (it takes that as its default, 4567), so a free port is found here and let go
        // before it binds: another process may take it in between, and then a fresh port is tried.
        for (var attempt = 1; ; attempt++)
        {
            var dynalite = await TryStartAsync(address, pickPort(), tableStateMs, cancellationToken).ConfigureAwait(false);
            if (dynalite.Started is { } started)
            {
                return started;
            }

            if (!dynalite.PortTaken || attempt == MaxPortAttempts)
            {
                throw new InvalidOperationException($"dynalite did not start: {dynalite.Error}");
            }
        }
    }

    /// <summary>A loopback port free at the call, let go at once (dynalite binds it itself).</summary>
    internal static int FreeLoopbackPort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static async Task<(Dynalite? Started, bool PortTaken, string Error)> TryStartAsync(string address, int port, int tableStateMs, CancellationToken cancellationToken)
    {
        var state = tableStateMs.ToString(CultureInfo.InvariantCulture);
        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { CliPath, "--host", address, "--port", port.ToString(CultureInfo.InvariantCulture), "--createTableMs", state, "--deleteTableMs", state })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("node (for dynalite) did not start");
        var dynalite = new Dynalite(process, port);
        try
        {
            var line = await process.StandardOutput.ReadLineAsync(cancellationToken).AsTask().WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            if (line is not null && line.StartsWith("Dynalite listening", StringComparison.Ordinal))
            {
                return (dynalite, false, "");
            }

            // A failed listen ends the process, so its error output is complete once read to the end.
            var error = await process.StandardError.ReadToEndAsync(cancellationToken).WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            await dynalite.DisposeAsync().ConfigureAwait(false);
            return (null, error.Contains("EADDRINUSE", StringComparison.Ordinal), $"{line}\n{error}");
        }
        catch
        {
            await dynalite.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }

        _process.Dispose();
    }
}
