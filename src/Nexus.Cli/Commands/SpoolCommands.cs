// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Globalization;
using Nexus.Backend.WriteBack;

namespace Nexus.Cli.Commands;

/// <summary>
/// <c>nexus spool ls | redrive | discard</c>: the write-back spool's dead letters, acknowledged writes storage refused
/// for good because their bucket was deleted behind the node's back (docs/writeback.md, "Missing buckets").
/// </summary>
public static class SpoolCommands
{
    public static Command Create()
    {
        var spool = new Command("spool", "The write-back spool's dead letters: writes whose bucket was deleted after they were acknowledged");
        var ls = new Command("ls", "List the dead letters (read from the spool directory when the node is not running)");
        ls.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            using var client = NodeClient.For(options, TimeSpan.FromSeconds(10));
            var table = new TableOutput("bucket", "key", "size", "acknowledged");
            if (await client.IsHealthyAsync(ct))
            {
                foreach (var d in (await client.GetJsonAsync("nexus/v1/writeback/dead-letters", ct))["deadLetters"]!.AsArray())
                {
                    table.Add(d!["bucket"]!.ToString(), d["key"]!.ToString(), d["size"]!.ToString(), d["acknowledgedAt"]!.ToString());
                }
            }
            else
            {
                foreach (var r in SpoolJournal.Scan(options.WriteBackDirectory, deadLetters: true))
                {
                    table.Add(r.Bucket, r.Key, r.Length.ToString(CultureInfo.InvariantCulture), r.AcknowledgedAt.ToString("O", CultureInfo.InvariantCulture));
                }
            }

            table.Write();
            return ExitCodes.Ok;
        });
        spool.Subcommands.Add(ls);
        spool.Subcommands.Add(Act("redrive", "redriven", "Upload the dead letters once more (create the bucket first; a write of the key that landed since is overwritten)"));
        spool.Subcommands.Add(Act("discard", "discarded", "Give the dead letters up for good: their bytes are dropped from the spool"));
        return spool;
    }

    private static Command Act(string name, string field, string description)
    {
        var bucket = new Option<string?>("--bucket") { Description = "only the dead letters of this bucket" };
        var command = new Command(name, description + " (the node must be running)") { bucket };
        command.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            using var client = NodeClient.For(options, TimeSpan.FromSeconds(30));
            var only = parse.GetValue(bucket) is { } b ? "?bucket=" + Uri.EscapeDataString(b) : "";
            var answer = await client.SendJsonAsync(HttpMethod.Post, $"nexus/v1/writeback/dead-letters/{name}{only}", null, ct);
            Console.WriteLine($"nexus: {answer[field]} dead letter(s) {field}");
            return ExitCodes.Ok;
        });
        return command;
    }
}
