// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Nexus.Bench;

/// <summary>
/// The DynamoDB of <c>nexus bench compare --dynamodb</c>: dynalite (npm, installed by scripts/setup) on a free loopback
/// port: the node reaches it for both modes (nexus mode's generic path, baseline mode's signing proxy); the benchmark's
/// table is created before the node serves anything.
/// </summary>
public sealed class BenchDynamoDb : IAsyncDisposable
{
    public const string CliPath = "/opt/nexus/dynalite/node_modules/dynalite/cli.js";
    public const string Table = "bench-orders";

    private readonly Process _process;

    private BenchDynamoDb(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public static async Task<BenchDynamoDb> StartAsync(CancellationToken cancellationToken)
    {
        if (!File.Exists(CliPath))
        {
            throw new InvalidOperationException($"--dynamodb needs dynalite at {CliPath} (scripts/setup installs it from npm)");
        }

        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var start = new ProcessStartInfo("node") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { CliPath, "--host", "127.0.0.1", "--port", port.ToString(CultureInfo.InvariantCulture), "--createTableMs", "0" })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("node (for dynalite) did not start");
        var dynamo = new BenchDynamoDb(process, port);
        try
        {
            var line = await process.StandardOutput.ReadLineAsync(cancellationToken);
            if (line is null || !line.StartsWith("Dynalite listening", StringComparison.Ordinal))
            {
                throw new InvalidOperationException($"dynalite did not start: {line}\n{await process.StandardError.ReadToEndAsync(cancellationToken)}");
            }

            await dynamo.CreateTableAsync(cancellationToken);
            return dynamo;
        }
        catch
        {
            await dynamo.DisposeAsync();
            throw;
        }
    }

    /// <summary>The table, with Debian's boto3 (any key: dynalite checks none).</summary>
    private async Task CreateTableAsync(CancellationToken cancellationToken)
    {
        var script = $"import boto3; boto3.client('dynamodb', region_name='us-east-1', endpoint_url='http://127.0.0.1:{Port}', "
            + "aws_access_key_id='bench', aws_secret_access_key='bench').create_table(TableName='" + Table + "', "
            + "KeySchema=[{'AttributeName': 'pk', 'KeyType': 'HASH'}], AttributeDefinitions=[{'AttributeName': 'pk', 'AttributeType': 'S'}], "
            + "BillingMode='PAY_PER_REQUEST')";
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        using var python = Process.Start(start) ?? throw new InvalidOperationException("python3 did not start");
        var error = await python.StandardError.ReadToEndAsync(cancellationToken);
        await python.WaitForExitAsync(cancellationToken);
        if (python.ExitCode != 0)
        {
            throw new InvalidOperationException($"creating the DynamoDB table failed: {error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }
}
