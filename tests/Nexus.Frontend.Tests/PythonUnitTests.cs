// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing;

namespace Nexus.Frontend.Tests;

/// <summary>The stand-in's own unit tests (fake transport), run as part of the .NET suite so CI sees them.</summary>
public sealed class PythonUnitTests
{
    [RealClientsFact]
    public async Task StandInUnitTestsPass()
    {
        var (exitCode, stdout, stderr) = await PythonProcess.RunAsync(
            ["-m", "unittest", "discover", "-s", "tests", "-v"], PythonProcess.BaseEnvironment(), PythonProcess.FrontendDir);
        Assert.True(exitCode == 0, $"python unit tests failed (exit {exitCode}):\n{stdout}\n{stderr}");
        Assert.Contains("OK", stderr, StringComparison.Ordinal);
    }
}
