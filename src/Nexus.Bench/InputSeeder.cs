// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Node;

namespace Nexus.Bench;

/// <summary>Seeds the examples' inputs into a node's store with the examples' own seeder (Debian python3 + boto3).</summary>
public static class InputSeeder
{
    /// <summary>Seeds the examples' inputs; <paramref name="benchInputs"/> adds the 1 MiB and 10 MiB inputs of the compare benchmark.</summary>
    public static async Task SeedAsync(string script, NexusNode node, CancellationToken cancellationToken, bool benchInputs = false)
    {
        var start = new ProcessStartInfo("/usr/bin/python3")
        {
            ArgumentList = { script, "--endpoint", node.StoreAddress.ToString().TrimEnd('/'), "--access-key", node.StoreKey.AccessKeyId, "--secret-key", node.StoreKey.SecretAccessKey },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (benchInputs)
        {
            start.ArgumentList.Add("--bench");
        }

        using var seeder = Process.Start(start) ?? throw new InvalidOperationException("could not start the input seeder");
        var stderr = seeder.StandardError.ReadToEndAsync(cancellationToken);
        await seeder.StandardOutput.ReadToEndAsync(cancellationToken);
        await seeder.WaitForExitAsync(cancellationToken);
        if (seeder.ExitCode != 0)
        {
            throw new InvalidOperationException($"seeding inputs failed ({script}, exit {seeder.ExitCode}): {await stderr}");
        }
    }
}
