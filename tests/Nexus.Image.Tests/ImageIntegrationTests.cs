// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Testing;

namespace Nexus.Image.Tests;

/// <summary>
/// Builds the real image once (debootstrap, about a minute) into the shared default cache, so later runs and the
/// other test projects reuse it, then checks what functions rely on inside it.
/// </summary>
public sealed class ImageIntegrationTests
{
    private static readonly SemaphoreSlim s_once = new(1, 1);
    private static FunctionImage? s_image;

    [RootFact(runc: false)]
    public async Task ImageHasPythonBoto3PilNumpyAndTheRuntime()
    {
        var rootfs = (await EnsureImageAsync()).RootfsPath;

        var (exitCode, output) = await InImageAsync(rootfs, """
            import boto3, botocore, PIL.Image, numpy, json
            import nexus_runtime.bootstrap, nexus_channel
            print(json.dumps({"boto3": boto3.__version__, "pil": PIL.__version__, "numpy": numpy.__version__}))
            """);
        Assert.True(exitCode == 0, output);
        Assert.Contains("\"boto3\": \"1.26", output, StringComparison.Ordinal);

        // The stand-in boto3 is at /opt/nexus/frontend, apart from Debian's.
        Assert.True(File.Exists(Path.Combine(rootfs, "opt/nexus/frontend/boto3/__init__.py")));
        Assert.True(File.Exists(Path.Combine(rootfs, "usr/lib/python3/dist-packages/boto3/__init__.py")));
    }

    [RootFact(runc: false)]
    public async Task ImageIsTrimmedAndReadyForReadOnlySandboxes()
    {
        var rootfs = (await EnsureImageAsync()).RootfsPath;

        Assert.True(Directory.Exists(Path.Combine(rootfs, "var/task")));
        Assert.True(Directory.Exists(Path.Combine(rootfs, "tmp")));
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(rootfs, "usr/share/man")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(rootfs, "var/lib/apt/lists")));
        Assert.DoesNotContain(Directory.EnumerateFiles(Path.Combine(rootfs, "usr/share/doc"), "*", SearchOption.AllDirectories),
            f => Path.GetFileName(f) != "copyright");
        Assert.Contains("nameserver 127.0.0.1", File.ReadAllText(Path.Combine(rootfs, "etc/resolv.conf")), StringComparison.Ordinal);
        Assert.StartsWith("127.0.0.1", File.ReadAllText(Path.Combine(rootfs, "etc/hosts")), StringComparison.Ordinal);

        // Bytecode is precompiled: a read-only rootfs cannot cache it at run time.
        Assert.NotEmpty(Directory.EnumerateFiles(Path.Combine(rootfs, "opt/nexus/runtime/nexus_runtime/__pycache__"), "*.pyc"));
    }

    [RootFact(runc: false)]
    public async Task BaselineRuntimePointsBoto3AtTheStoreInsideTheImage()
    {
        var rootfs = (await EnsureImageAsync()).RootfsPath;

        var (exitCode, output) = await InImageAsync(rootfs, """
            import sys
            from nexus_runtime import endpoint
            endpoint.install({"s3": "http://10.77.0.1:9780"})
            assert "boto3" not in sys.modules and "botocore" not in sys.modules
            import boto3
            s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
            print(s3.meta.endpoint_url)
            print(boto3.resource("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s").meta.client.meta.endpoint_url)
            print(boto3.client("s3", endpoint_url="http://127.0.0.1:1", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s").meta.endpoint_url)
            """);
        Assert.True(exitCode == 0, output);
        Assert.Equal(["http://10.77.0.1:9780", "http://10.77.0.1:9780", "http://127.0.0.1:1"], output.Trim().Split('\n'));
    }

    [RootFact(runc: false)]
    public async Task SecondEnsureIsACacheHit()
    {
        var first = await EnsureImageAsync();
        var created = Directory.GetLastWriteTimeUtc(first.RootfsPath);

        var lines = new LineRecorder();
        var second = await new ImageBuilder(new ImageOptions()).EnsureAsync(lines, CancellationToken.None);

        Assert.Equal(first, second);
        Assert.Equal(created, Directory.GetLastWriteTimeUtc(second.RootfsPath));
        Assert.Contains(lines.Lines, l => l.Contains("(cached)", StringComparison.Ordinal));
        Assert.DoesNotContain(lines.Lines, l => l.Contains("debootstrap", StringComparison.Ordinal) || l.StartsWith("Retrieving", StringComparison.Ordinal));

        var listed = new ImageBuilder(new ImageOptions()).ListCached();
        Assert.Contains(listed, i => i.Kind == CachedImageKind.Image && i.IsCurrent && i.RootfsPath == second.RootfsPath && i.SizeBytes > 100_000_000);
        Assert.Contains(listed, i => i.Kind == CachedImageKind.Base && i.IsCurrent);
    }

    /// <summary>The real image, built (or found in the shared cache) once per test run.</summary>
    internal static async Task<FunctionImage> EnsureImageAsync()
    {
        await s_once.WaitAsync();
        try
        {
            return s_image ??= await new ImageBuilder(new ImageOptions()).EnsureAsync(new LineRecorder(), CancellationToken.None);
        }
        finally
        {
            s_once.Release();
        }
    }

    private static Task<(int ExitCode, string Output)> InImageAsync(string rootfs, string script) =>
        Run.ProgramAsync("chroot", [rootfs, "/usr/bin/python3", "-c", script], new Dictionary<string, string>
        {
            ["PYTHONPATH"] = "/opt/nexus/runtime",
            ["PATH"] = "/usr/bin:/bin",
            ["HOME"] = "/tmp",
        });
}
