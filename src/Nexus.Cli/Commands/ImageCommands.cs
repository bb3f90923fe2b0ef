// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Globalization;
using Nexus.Image;
using Nexus.Node;
using Spectre.Console;

namespace Nexus.Cli.Commands;

/// <summary><c>nexus image build</c> and <c>nexus image ls</c>: the cached function image.</summary>
public static class ImageCommands
{
    public static Command Create()
    {
        var image = new Command("image", "Build or list the function image (Debian rootfs + runtime)");
        var build = new Command("build", "Build the function image if it is not cached (debootstrap, ~1-2 min the first time)");
        build.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            if (ImageBuilder.MissingPrerequisite() is { } missing)
            {
                throw new CliException(ExitCodes.StartFailed, missing);
            }

            var built = await EnsureImageAsync(options, ct);
            Console.WriteLine($"nexus: image {built.ContentHash} at {built.RootfsPath}");
            return ExitCodes.Ok;
        });
        var ls = new Command("ls", "List cached base rootfs and function images");
        ls.SetAction(parse =>
        {
            var options = CommonOptions.Load(parse);
            var builder = new ImageBuilder(Options(options));
            var table = new TableOutput("kind", "hash", "created", "size", "current", "path");
            foreach (var entry in builder.ListCached())
            {
                table.Add(
                    entry.Kind.ToString().ToLowerInvariant(),
                    entry.ContentHash,
                    entry.Created.ToString("u", CultureInfo.InvariantCulture),
                    $"{entry.SizeBytes / (1024 * 1024)} MiB",
                    entry.IsCurrent ? "yes" : "-",
                    entry.RootfsPath);
            }

            table.Write();
            return ExitCodes.Ok;
        });
        image.Subcommands.Add(build);
        image.Subcommands.Add(ls);
        return image;
    }

    /// <summary>The cached image, or a fresh build: one updating progress line (phase lines on a pipe), details in a log.</summary>
    public static async Task<FunctionImage> EnsureImageAsync(NodeOptions options, CancellationToken cancellationToken)
    {
        var builder = new ImageBuilder(Options(options));
        if (builder.TryGetCached() is { } cached)
        {
            return cached;
        }

        var log = Path.Combine(options.Home, "image-build.log");
        Console.WriteLine($"nexus: building the function image (first time: ~1-2 min); every step is logged in {log}");
        if (Console.IsOutputRedirected)
        {
            using var phases = new ImageBuildProgress(log, line => Console.WriteLine("nexus: image: " + line), phasesOnly: true);
            return await builder.EnsureAsync(phases, cancellationToken);
        }

        return await AnsiConsole.Status().StartAsync("building the function image", async context =>
        {
            using var progress = new ImageBuildProgress(log, line => context.Status(Markup.Escape("building the function image: " + (line.Length > 100 ? line[..100] : line))), phasesOnly: false);
            return await builder.EnsureAsync(progress, cancellationToken);
        });
    }

    private static ImageOptions Options(NodeOptions options) => new() { CacheDirectory = options.ImageCache, Mirror = options.Mirror };
}
