// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Nexus.Image;
using Nexus.Sandbox.Microvm;
using Nexus.Vmm.Builder;
using Nexus.Vmm.VState;

namespace Nexus.Bench.Vmm;

/// <summary>One figure of <see cref="LinuxBench"/>: the median over the runs in the guest and on the host.</summary>
public sealed record LinuxFigure(string Name, string Unit, double Guest, double Host)
{
    public double Ratio => Guest / Host;
}

/// <summary>
/// What <see cref="LinuxBench"/> measured: the figures, the guest's command line and its kernel's FPU lines (whether it
/// uses XSAVE), and the exits that reached the VMM, summed over <see cref="Runs"/> boots.
/// </summary>
public sealed record LinuxBenchResult(IReadOnlyList<LinuxFigure> Figures, string CommandLine, IReadOnlyList<string> FpuLines, ExitCounts Exits, int Runs);

/// <summary>
/// <c>nexus vmm bench --linux</c>: the Linux guest (guest/kernel/build.sh's kernel) against the host, on the same
/// programs and files. The guest boots as the microvm driver boots a function (the function image's erofs root as
/// /dev/vda, a code drive as /dev/vdb, nexus-init starting the code drive's command as uid 65534), but the code drive
/// holds guest/bench: nexus-ubench (static C, built here with gcc) and a warm hello-s3 driver. Each run boots a fresh
/// VM in this process, takes the time from VM creation to nexus-ubench's first console line, and reads its figures
/// from the console; then nexus-ubench runs on the host in the same image root (chroot, uid 65534). Medians over the
/// runs, each printed beside the host's with the ratio.
/// </summary>
public static partial class LinuxBench
{
    /// <summary>The code drive's command and environment; the host run gets the same environment.</summary>
    private static readonly GuestLaunch s_launch = new(
        ["/var/task/nexus-ubench"],
        new Dictionary<string, string>(StringComparer.Ordinal) { ["PATH"] = "/usr/local/bin:/usr/bin:/bin", ["HOME"] = "/tmp", ["LANG"] = "C.UTF-8" });

    /// <summary>The code drive's files: embedded resource → name in the task folder.</summary>
    private static readonly (string Resource, string File)[] s_taskFiles =
        [("hello_warm.py", "hello_warm.py"), ("hello-s3/handler.py", "handler.py"), ("hello-s3/event.json", "event.json")];

    /// <summary>nexus-ubench's result names, in print order: what each is, its unit.</summary>
    private static readonly (string Key, string Name, string Unit)[] s_figures =
    [
        ("user-space", "VM creation to user space (host: process start)", "ms"),
        ("getppid", "getppid() system call", "us"),
        ("page-fault", "page fault on fresh anonymous memory", "us"),
        ("fork-exit", "fork + exit + wait", "us"),
        ("pipe-round-trip", "pipe round trip between two processes", "us"),
        ("exec-true", "fork + exec /bin/true + wait", "us"),
        ("python-pass", "python3 -c pass (median of 7 per run)", "ms"),
        ("hello-s3-warm", "hello-s3 handler, warm, S3 calls stubbed", "us"),
    ];

    /// <summary>Each figure's name as its line starts (its unit follows in parentheses).</summary>
    public static IReadOnlyList<string> FigureNames { get; } = [.. s_figures.Select(f => f.Name)];

    private static readonly TimeSpan s_runTimeout = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Runs <paramref name="iterations"/> guest boots and host runs. <paramref name="softwareKvmProfile"/> is the VM's
    /// <see cref="VmConfig.SoftwareKvmProfile"/> (null: what the VMM chooses for this kernel and host);
    /// <paramref name="append"/> goes at the end of the guest's command line (e.g. <c>quiet</c>).
    /// </summary>
    public static async Task<LinuxBenchResult> RunAsync(string kernel, int iterations, ulong memoryMiB, bool? softwareKvmProfile, string? append, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(progress);
        var report = new ImmediateProgress(progress);
        var imageOptions = new ImageOptions();
        var image = await new ImageBuilder(imageOptions).EnsureAsync(report, cancellationToken);
        var root = await GuestDisks.EnsureRootAsync(image, report, cancellationToken);
        var bench = await EnsureBenchDriveAsync(Path.Combine(Path.GetDirectoryName(imageOptions.CacheDirectory)!, "bench"), progress, cancellationToken);
        IReadOnlyList<DriveConfig> drives = [new DriveConfig(root, ReadOnly: true), new DriveConfig(bench.CodeDrive, ReadOnly: true)];
        var guest = new List<IReadOnlyDictionary<string, double>>();
        var host = new List<IReadOnlyDictionary<string, double>>();
        var exits = new List<ExitCounts>();
        var (commandLine, fpu) = (string.Empty, (IReadOnlyList<string>)[]);
        for (var i = 1; i <= iterations; i++)
        {
            progress($"run {i}/{iterations}: guest");
            var run = RunGuest(kernel, memoryMiB, drives, softwareKvmProfile, append);
            guest.Add(run.Figures);
            exits.Add(run.Exits);
            (commandLine, fpu) = (run.CommandLine, run.FpuLines);
            progress($"run {i}/{iterations}: host");
            host.Add(await RunHostAsync(bench.Task, image.RootfsPath, cancellationToken));
        }

        var result = s_figures.Select(f => new LinuxFigure(f.Name, f.Unit, Median(guest, f.Key), Median(host, f.Key))).ToList();
        return new LinuxBenchResult(result, commandLine, fpu, ExitCounts.Sum(exits), iterations);
    }

    /// <summary>The figures as a table: a line per figure, guest median, host median, ratio last.</summary>
    public static string Format(LinuxBenchResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"{"figure (median of " + result.Runs + " runs)",-52} {"guest",12} {"host",12} {"ratio",8}");
        foreach (var f in result.Figures)
        {
            text.Append(CultureInfo.InvariantCulture, $"\n{f.Name + " (" + f.Unit + ")",-52} {f.Guest,12:0.000} {f.Host,12:0.000} {f.Ratio,7:0.0}x");
        }

        return text.ToString();
    }

    /// <summary>One boot: the figures nexus-ubench printed (user-space: ms from VM creation to its first line), the exits, the command line, the kernel's FPU lines.</summary>
    private static (IReadOnlyDictionary<string, double> Figures, ExitCounts Exits, string CommandLine, IReadOnlyList<string> FpuLines) RunGuest(string kernel, ulong memoryMiB, IReadOnlyList<DriveConfig> drives, bool? softwareKvmProfile, string? append)
    {
        var console = new ConsoleLines();
        var start = Stopwatch.GetTimestamp();
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = kernel,
            MemoryMiB = memoryMiB,
            Drives = drives,
            AppendBootArgs = MicrovmSandboxDriver.GuestCommandLine(null, tmpMb: 64) + (append is { Length: > 0 } ? " " + append : string.Empty),
            SoftwareKvmProfile = softwareKvmProfile,
            PvLiteGuest = true,
            ConsoleOutput = console.Add,
        }, startTimestamp: start);
        vm.Start();
        var exit = vm.WaitForExit(s_runTimeout);
        var lines = console.Lines();
        var figures = Parse(lines.Select(l => l.Text), "the guest");
        if (exit.Kind != VmExitKind.ExitPort || exit.Code != 0 || figures.Count != s_figures.Length)
        {
            throw new InvalidOperationException($"the bench guest did not finish: {exit}; its console ended with:\n{string.Join('\n', lines.TakeLast(40).Select(l => l.Text))}");
        }

        figures["user-space"] = Stopwatch.GetElapsedTime(start, lines.First(l => l.Text.StartsWith(Mark, StringComparison.Ordinal)).Timestamp).TotalMilliseconds;
        var fpu = lines.Select(l => l.Text).Where(l => l.Contains("x86/fpu:", StringComparison.Ordinal)).Select(l => l[(l.IndexOf("x86/fpu:", StringComparison.Ordinal))..]).ToList();
        return (figures, ExitCounts.Sum(vm.Vcpus.Select(v => v.Exits)), vm.CommandLine, fpu);
    }

    /// <summary>nexus-ubench on the host, in the image root with the bench's task folder at /var/task (it does the chroot itself).</summary>
    private static async Task<IReadOnlyDictionary<string, double>> RunHostAsync(string task, string rootfs, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Path.Combine(task, "nexus-ubench")) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "--root", rootfs, "--task", task })
        {
            start.ArgumentList.Add(a);
        }

        start.Environment.Clear();
        foreach (var (name, value) in s_launch.Environment)
        {
            start.Environment[name] = value;
        }

        var started = Stopwatch.GetTimestamp();
        using var process = Process.Start(start) ?? throw new InvalidOperationException("cannot start nexus-ubench");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var lines = new List<string>();
        double userSpace = double.NaN;
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            if (lines.Count == 0 && line.StartsWith(Mark, StringComparison.Ordinal))
            {
                userSpace = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            lines.Add(line);
        }

        await process.WaitForExitAsync(cancellationToken);
        var figures = Parse(lines, "the host");
        if (process.ExitCode != 0 || figures.Count != s_figures.Length)
        {
            throw new InvalidOperationException($"nexus-ubench on the host failed (exit {process.ExitCode}): {string.Join('\n', lines)}\n{await stderr}");
        }

        figures["user-space"] = userSpace;
        return figures;
    }

    private const string Mark = "nexus-ubench: user-space ";

    /// <summary>The "nexus-ubench: NAME VALUE UNIT" lines by name (the user-space mark included, to be replaced by its time).</summary>
    private static Dictionary<string, double> Parse(IEnumerable<string> lines, string where)
    {
        var figures = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in lines)
        {
            if (ResultLine().Match(line) is not { Success: true } m || s_figures.FirstOrDefault(f => f.Key == m.Groups[1].Value) is not { Key: not null } expected)
            {
                continue;
            }

            if (expected.Key != "user-space" && m.Groups[3].Value != expected.Unit)
            {
                throw new InvalidOperationException($"{where}: {expected.Key} in {m.Groups[3].Value}, expected {expected.Unit}");
            }

            figures[expected.Key] = double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
        }

        return figures;
    }

    [GeneratedRegex(@"^nexus-ubench: (\S+) ([0-9.]+) (\S+)$")]
    private static partial Regex ResultLine();

    private static double Median(List<IReadOnlyDictionary<string, double>> runs, string key)
    {
        var sorted = runs.Select(r => r[key]).Order().ToArray();
        return sorted[sorted.Length / 2];
    }

    /// <summary>
    /// The bench's task folder (nexus-ubench, the hello-s3 driver, handler and event) and its code drive, built once in
    /// <paramref name="cache"/>/&lt;hash&gt; (a hash of the sources and the gcc that compiles them) and reused.
    /// </summary>
    private static async Task<(string Task, string CodeDrive)> EnsureBenchDriveAsync(string cache, Action<string> progress, CancellationToken cancellationToken)
    {
        var source = Resource("ubench.c");
        var files = s_taskFiles.Select(f => (f.File, Bytes: Resource(f.Resource))).ToList();
        var gcc = (await RunAsync("gcc", ["--version"], cancellationToken)).Split('\n')[0];
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in files.Select(f => f.Bytes).Prepend(source).Append(Encoding.UTF8.GetBytes(gcc)))
        {
            hash.AppendData(SHA256.HashData(part));
        }

        var entry = Path.Combine(cache, Convert.ToHexStringLower(hash.GetHashAndReset())[..16]);
        var (task, code) = (Path.Combine(entry, "task"), Path.Combine(entry, "code.erofs"));
        if (File.Exists(code))
        {
            progress($"bench drive {entry} (cached)");
            return (task, code);
        }

        progress($"bench drive {entry}: gcc, mkfs.erofs");
        var partial = $"{entry}.partial-{Environment.ProcessId}";
        Directory.CreateDirectory(Path.Combine(partial, "task"));
        try
        {
            await File.WriteAllBytesAsync(Path.Combine(partial, "ubench.c"), source, cancellationToken);
            await RunAsync("gcc", ["-O2", "-static", "-o", Path.Combine(partial, "task", "nexus-ubench"), Path.Combine(partial, "ubench.c")], cancellationToken);
            foreach (var (file, bytes) in files)
            {
                await File.WriteAllBytesAsync(Path.Combine(partial, "task", file), bytes, cancellationToken);
            }

            await GuestDisks.BuildCodeDriveAsync(Path.Combine(partial, "task"), s_launch, Path.Combine(partial, "code.erofs"), cancellationToken);
            if (!Directory.Exists(entry))
            {
                Directory.Move(partial, entry);
            }
        }
        finally
        {
            if (Directory.Exists(partial))
            {
                Directory.Delete(partial, recursive: true);
            }
        }

        return (task, code);
    }

    private static byte[] Resource(string name)
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("bench/" + name)
            ?? throw new InvalidOperationException($"embedded resource bench/{name} missing");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>Runs a tool to its end; its stdout, or an exception with its stderr.</summary>
    private static async Task<string> RunAsync(string tool, IReadOnlyList<string> arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments)
        {
            start.ArgumentList.Add(a);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"cannot start {tool}");
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return process.ExitCode == 0 ? await stdout : throw new InvalidOperationException($"{tool} {string.Join(' ', arguments)} failed: {await stderr}");
    }

    /// <summary>Reports on the caller's thread, in order (<see cref="Progress{T}"/> posts to the thread pool).</summary>
    private sealed class ImmediateProgress(Action<string> report) : IProgress<string>
    {
        public void Report(string value) => report(value);
    }

    /// <summary>The guest console as lines, each stamped when its end arrived (on the vCPU thread that wrote it).</summary>
    private sealed class ConsoleLines
    {
        private readonly List<(string Text, long Timestamp)> _lines = [];
        private readonly List<byte> _current = [];

        public void Add(byte b)
        {
            if (b != '\n')
            {
                _current.Add(b);
                return;
            }

            var text = Encoding.UTF8.GetString([.. _current]).TrimEnd('\r');
            _current.Clear();
            lock (_lines)
            {
                _lines.Add((text, Stopwatch.GetTimestamp()));
            }
        }

        public List<(string Text, long Timestamp)> Lines()
        {
            lock (_lines)
            {
                return [.. _lines];
            }
        }
    }
}
