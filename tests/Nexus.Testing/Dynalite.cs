// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Xunit;

namespace Nexus.Testing;

/// <summary>
/// dynalite (npm, installed by scripts/setup), a DynamoDB implementation on LevelDB that nobody here wrote: the
/// independent DynamoDB the generic path and the node's signing proxy are tested against. In memory, on a free port, one
/// per test.
/// </summary>
public sealed class Dynalite : IAsyncDisposable
{
    public const string CliPath = "/opt/nexus/dynalite/node_modules/dynalite/cli.js";

    private readonly Process _process;

    private Dynalite(Process process, string endpoint)
    {
        _process = process;
        Endpoint = endpoint;
    }

    public string Endpoint { get; }

    /// <summary>The port dynalite listens on.</summary>
    public int Port { get; private init; }

    /// <summary>Starts dynalite listening on <paramref name="address"/> (loopback; 0.0.0.0: every address of the host).</summary>
    public static async Task<Dynalite> StartAsync(string address = "127.0.0.1")
    {
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("node")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { CliPath, "--host", address, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--createTableMs", "50", "--deleteTableMs", "50" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("node did not start");
        var line = await process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        if (line is null || !line.StartsWith("Dynalite listening", StringComparison.Ordinal))
        {
            process.Kill();
            throw new InvalidOperationException($"dynalite did not start: {line}\n{await process.StandardError.ReadToEndAsync().ConfigureAwait(false)}");
        }

        return new Dynalite(process, $"http://127.0.0.1:{port}") { Port = port };
    }

    public async ValueTask DisposeAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().ConfigureAwait(false);
        _process.Dispose();
    }
}

/// <summary>A test that needs dynalite and Debian's boto3; skipped, saying what to install, without them.</summary>
public sealed class DynaliteFactAttribute : FactAttribute
{
    public DynaliteFactAttribute()
    {
        Skip = HostRequirements.Missing(debianBoto3: true)
            ?? (File.Exists(Dynalite.CliPath) ? null : $"needs dynalite at {Dynalite.CliPath} (scripts/setup installs it from npm)");
    }
}
