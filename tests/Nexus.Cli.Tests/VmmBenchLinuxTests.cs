// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Bench.Vmm;
using Nexus.Testing;

namespace Nexus.Cli.Tests;

/// <summary>
/// <c>nexus vmm bench --linux</c> runs end to end: one boot of the guest kernel with the bench's code drive, nexus-ubench
/// and the warm hello-s3 in the guest and on the host. Checks that every figure was measured on both sides, not what it
/// is (figures come from the command, docs/vmm.md).
/// </summary>
public sealed class VmmBenchLinuxTests
{
    [LinuxMicrovmFact]
    public async Task One_iteration_prints_every_figure_for_guest_and_host_with_a_ratio_and_the_exits()
    {
        var (exitCode, stdout, stderr) = await NexusCli.RunAsync(["vmm", "bench", "--linux", "--iterations", "1", "--kernel", GuestKernel.Path]);
        Assert.True(exitCode == 0, $"exit {exitCode}\n{stdout}\n{stderr}");

        var lines = stdout.Split('\n');
        foreach (var name in LinuxBench.FigureNames)
        {
            var line = Assert.Single(lines, l => l.StartsWith(name + " (", StringComparison.Ordinal));
            var columns = line[line.LastIndexOf(')')..].Split(' ', StringSplitOptions.RemoveEmptyEntries)[1..];
            Assert.Equal(3, columns.Length);
            var (guest, host, ratio) = (Number(columns[0]), Number(columns[1]), Number(columns[2].TrimEnd('x')));
            Assert.True(guest > 0 && host > 0 && ratio > 0, line);
        }

        Assert.Contains(lines, l => l.StartsWith("per boot, exits to the VMM: ", StringComparison.Ordinal));

        // The guest kernel is a pv-lite guest: on kvm_pvm too it keeps XSAVE.
        var commandLine = Assert.Single(lines, l => l.StartsWith("guest command line: ", StringComparison.Ordinal));
        Assert.DoesNotContain("noxsave", commandLine, StringComparison.Ordinal);
    }

    private static double Number(string text) => double.Parse(text, CultureInfo.InvariantCulture);
}
