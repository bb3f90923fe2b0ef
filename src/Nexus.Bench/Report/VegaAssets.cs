// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;

namespace Nexus.Bench.Report;

/// <summary>vega, vega-lite, vega-embed and vega-cli from npm, installed once into a cache folder.</summary>
public static class VegaAssets
{
    public const string DefaultCache = "/var/cache/nexus/npm";

    /// <summary>Pinned versions that work together (checked November 2026).</summary>
    public static readonly string[] Packages = ["vega@6.4.0", "vega-lite@6.4.3", "vega-embed@7.3.0", "vega-cli@6.4.0"];

    /// <summary>Returns the cache's node_modules folder, installing the packages first when absent.</summary>
    public static async Task<string> EnsureAsync(string cache, TextWriter log, CancellationToken cancellationToken)
    {
        var modules = Path.Combine(cache, "node_modules");
        if (Present(modules))
        {
            return modules;
        }

        Directory.CreateDirectory(cache);
        log.WriteLine($"installing {string.Join(", ", Packages)} from npm into {cache} (once)");

        // --ignore-scripts: vega-cli's optional node-canvas build is not needed for SVG.
        var start = new ProcessStartInfo("npm") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "install", "--no-audit", "--no-fund", "--ignore-scripts", "--prefix", cache }.Concat(Packages))
        {
            start.ArgumentList.Add(argument);
        }

        using var npm = Process.Start(start) ?? throw new InvalidOperationException("could not start npm (Debian package npm)");
        var stderr = npm.StandardError.ReadToEndAsync(cancellationToken);
        await npm.StandardOutput.ReadToEndAsync(cancellationToken);
        await npm.WaitForExitAsync(cancellationToken);
        if (npm.ExitCode != 0 || !Present(modules))
        {
            throw new InvalidOperationException($"npm install into {cache} failed (exit {npm.ExitCode}): {await stderr}");
        }

        return modules;
    }

    private static bool Present(string modules) =>
        File.Exists(Path.Combine(modules, "vega", "build", "vega.min.js")) &&
        File.Exists(Path.Combine(modules, "vega-lite", "build", "vega-lite.min.js")) &&
        File.Exists(Path.Combine(modules, "vega-embed", "build", "vega-embed.min.js")) &&
        File.Exists(Path.Combine(modules, ".bin", "vl2svg"));
}
