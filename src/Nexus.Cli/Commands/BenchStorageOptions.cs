// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Reflection;
using Nexus.Bench.Remote;

namespace Nexus.Cli.Commands;

/// <summary>`--storage local|remote`, `--profile` and `--store-server` of the benchmarks, and the remote store they start.</summary>
public sealed class BenchStorageOptions
{
    private readonly Option<string> _storage = new("--storage") { Description = "local: the node's embedded store; remote: `nexus store serve` (or s3rver) in its own process and network namespace behind a shaped link", DefaultValueFactory = _ => "local" };
    private readonly Option<string> _profile = new("--profile") { Description = "shape of the path to the remote store: datacenter (0.2 ms one way, 10 Gbit/s), cross-az (1 ms one way) or s3 (0.5 ms one way and 20 ms first-byte latency in the store, like S3 in the function's region)", DefaultValueFactory = _ => StorageProfile.Datacenter.Name };
    private readonly Option<string> _server = new("--store-server") { Description = "the remote store: nexus (`nexus store serve`) or s3rver (npm, an independent S3 implementation)", DefaultValueFactory = _ => "nexus" };

    private readonly Option<string> _revalidation = new("--prefetch-revalidation") { Description = "with --storage remote: on (a conditional HEAD before a prefetched copy answers, strongly consistent) or off (the copy fetched at the invoke answers that invocation; node option s3PrefetchRevalidation)", DefaultValueFactory = _ => "on" };

    public void AddTo(Command command)
    {
        command.Options.Add(_revalidation);
        command.Options.Add(_storage);
        command.Options.Add(_profile);
        command.Options.Add(_server);
    }

    /// <summary>The remote store the command asked for (started), or null for local storage; argument errors throw <see cref="ArgumentException"/>.</summary>
    public async Task<RemoteStore?> StartAsync(ParseResult parse, TextWriter log, CancellationToken cancellationToken)
    {
        var storage = parse.GetValue(_storage);
        var revalidation = parse.GetValue(_revalidation) switch
        {
            "on" => true,
            "off" => false,
            var other => throw new ArgumentException($"--prefetch-revalidation '{other}': expected on or off"),
        };
        if (storage == "local")
        {
            return revalidation ? null : throw new ArgumentException("--prefetch-revalidation off applies to --storage remote only (the embedded store tells the node of every write)");
        }

        if (storage != "remote")
        {
            throw new ArgumentException($"--storage '{storage}': expected local or remote");
        }

        var profile = StorageProfile.Parse(parse.GetValue(_profile)!);
        var server = parse.GetValue(_server) switch
        {
            "nexus" => StoreServerKind.Nexus,
            "s3rver" => StoreServerKind.S3rver,
            var other => throw new ArgumentException($"--store-server '{other}': expected nexus or s3rver"),
        };
        return await RemoteStore.StartAsync(new RemoteStoreOptions { Profile = profile, Server = server, PrefetchRevalidation = revalidation, NexusCommand = OwnCommand() }, log, cancellationToken);
    }

    /// <summary>How to run this very CLI again (`dotnet nexus.dll`, or the apphost).</summary>
    private static string[] OwnCommand()
    {
        var process = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which executable runs nexus");
        return Path.GetFileNameWithoutExtension(process) == "dotnet"
            ? [process, Assembly.GetEntryAssembly()?.Location ?? throw new InvalidOperationException("cannot tell where nexus.dll is")]
            : [process];
    }
}
