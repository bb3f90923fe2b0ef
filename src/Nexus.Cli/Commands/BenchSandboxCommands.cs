// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Globalization;
using Nexus.Bench.SandboxStarts;

namespace Nexus.Cli.Commands;

/// <summary>`nexus bench oci-start`: the oci driver's cold start alone (runc, no node), without and with the veth network.</summary>
public static class BenchSandboxCommands
{
    public static void AddTo(Command bench) => bench.Subcommands.Add(CreateOciStart());

    private static Command CreateOciStart()
    {
        var runs = new Option<int>("--runs") { Description = "measured starts per network setting (one more warms up first)", DefaultValueFactory = _ => 20 };
        var rootfs = new Option<DirectoryInfo?>("--rootfs") { Description = "the sandbox's root (default: the function image, built when absent)" };
        var command = new Command("oci-start", "The oci driver's cold start without a node: StartAsync to the sandbox's first output line, and teardown, without and with the veth network (as root)")
        {
            runs, rootfs,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            if (parse.GetValue(runs) is < 1 or > 1000)
            {
                Console.Error.WriteLine("error: --runs takes 1 to 1000");
                return 2;
            }

            var root = parse.GetValue(rootfs)?.FullName;
            if (root is not null && !File.Exists(Path.Combine(root, "bin", "sh")))
            {
                Console.Error.WriteLine($"error: --rootfs {root} has no bin/sh");
                return 2;
            }

            root ??= (await ImageCommands.EnsureImageAsync(CommonOptions.Load(parse), cancellationToken)).RootfsPath;
            Console.Error.WriteLine($"bench: oci-start, rootfs {root}, {parse.GetValue(runs)} starts per setting; load average {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            var results = await OciStartBenchmark.RunAsync(root, parse.GetValue(runs), line => Console.Error.WriteLine("bench: " + line), cancellationToken);
            var table = new TableOutput("network", "start → first line p50 (min-max) ms", "StartAsync returned p50 ms", "teardown p50 ms", "n");
            foreach (var result in results)
            {
                table.Add(
                    result.Network.ToString(),
                    string.Create(CultureInfo.InvariantCulture, $"{result.FirstLine.P50:0.0} ({result.FirstLine.Min:0.0}-{result.FirstLine.Max:0.0})"),
                    result.StartReturned.P50.ToString("0.0", CultureInfo.InvariantCulture),
                    result.Teardown.P50.ToString("0.0", CultureInfo.InvariantCulture),
                    result.FirstLine.Count.ToString(CultureInfo.InvariantCulture));
            }

            table.Write();
            return 0;
        });
        return command;
    }
}
