// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing;

namespace Nexus.Image.Tests;

/// <summary>Runs the runtime's own Python suite (runtime/nexus_runtime/tests) so <c>dotnet test</c> covers it.</summary>
public sealed class RuntimePythonTests
{
    [Fact]
    public async Task RuntimePythonSuitePasses()
    {
        Assert.True(File.Exists(HostRequirements.DebianPython), "needs Debian's python3 at " + HostRequirements.DebianPython);

        var (exitCode, output) = await Run.ProgramAsync(
            HostRequirements.DebianPython,
            ["-m", "unittest", "discover", "-v", "-s", Path.Combine("runtime", "nexus_runtime", "tests")],
            new Dictionary<string, string> { ["PYTHONDONTWRITEBYTECODE"] = "1" },
            HostRequirements.RepoRoot);

        Assert.True(exitCode == 0, output);
        Assert.Matches(@"Ran [1-9][0-9]* tests", output);
        // unittest marks a skipped test "... skipped 'why'" and counts them in "OK (skipped=N)"; a test's name may say "skipped".
        Assert.DoesNotMatch(@"\.\.\. skipped|skipped=", output);
    }
}
