// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Bench;

/// <summary>
/// The DynamoDB of <c>nexus bench compare --dynamodb</c>: dynalite (npm, installed by scripts/setup) on a free loopback
/// port: the node reaches it for both modes (nexus mode's generic path, baseline mode's signing proxy); the benchmark's
/// table is created before the node serves anything.
/// </summary>
public sealed class BenchDynamoDb : IAsyncDisposable
{
    public const string Table = "bench-orders";

    private readonly Dynalite _dynalite;

    private BenchDynamoDb(Dynalite dynalite) => _dynalite = dynalite;

    public int Port => _dynalite.Port;

    public static async Task<BenchDynamoDb> StartAsync(CancellationToken cancellationToken)
    {
        var dynamo = new BenchDynamoDb(await Dynalite.StartAsync(tableStateMs: 0, cancellationToken: cancellationToken));
        try
        {
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

    public ValueTask DisposeAsync() => _dynalite.DisposeAsync();
}
