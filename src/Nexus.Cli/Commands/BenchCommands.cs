// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using Nexus.Bench;
using Nexus.Bench.Remote;
using Nexus.Interop;
using Nexus.Node;

namespace Nexus.Cli.Commands;

/// <summary>`nexus bench compare`: nexus against baseline on one node, side by side in one run.</summary>
public static class BenchCommands
{
    public static Command Create()
    {
        var bench = new Command("bench", "Benchmarks: nexus against baseline, side by side in one run");
        bench.Subcommands.Add(CreateCompare());
        bench.Subcommands.Add(CreateDelayLine());
        bench.Subcommands.Add(CreateMicrovm());
        return bench;
    }

    // The remote store's link emulator, run by the benchmarks as a process of its own (see DelayLine).
    private static Command CreateDelayLine()
    {
        var hostTap = new Option<string>("--host-tap") { Description = "TAP device to make in this network namespace", Required = true };
        var storeNetns = new Option<string>("--store-netns") { Description = "the far network namespace (a /run/netns path)", Required = true };
        var storeTap = new Option<string>("--store-tap") { Description = "TAP device to make in the far namespace", Required = true };
        var delay = new Option<int>("--delay-us") { Description = "one-way delay in microseconds", Required = true };
        var line = new Command("delay-line", "Internal to --storage remote: carry frames between two TAP devices in two namespaces, each a fixed delay late; stops when stdin closes")
        {
            hostTap, storeNetns, storeTap, delay,
        };
        line.SetAction(async (parse, cancellationToken) =>
        {
            using var host = Tap.Open(parse.GetValue(hostTap)!);
            using var store = Tap.Open(parse.GetValue(storeTap)!, parse.GetValue(storeNetns)!);
            var emulator = new DelayLine(host, store, TimeSpan.FromMicroseconds(parse.GetValue(delay)));
            emulator.Start();
            Console.WriteLine("ready");
            using var stdin = Console.OpenStandardInput();
            var buffer = new byte[64];
            while (await stdin.ReadAsync(buffer, cancellationToken) > 0)
            {
            }

            Console.WriteLine($"delay line: {emulator.Counts.Frames} frames carried, {emulator.Counts.Dropped} dropped");
            return 0;
        });
        return line;
    }

    private static Command CreateMicrovm()
    {
        var kernel = new Option<FileInfo>("--kernel") { Description = "the guest microvm functions boot (here: the runtime guest built from guest/test/runtime.c)", Required = true };
        var iterations = new Option<int>("--iterations") { Description = "cold starts after the one that makes the snapshot", DefaultValueFactory = _ => 10 };
        var vmm = new Option<FileInfo?>("--vmm") { Description = "the VMM executable (default: nexus-vmm of this checkout, NativeAOT when published)" };
        var jail = new Option<string>("--jail") { Description = "on (every VMM jailed, as the node's are: root, cgroup v1, NativeAOT nexus-vmm), off (unjailed, still in the VM's cgroups), or both: off then on, with the on/off ratios", DefaultValueFactory = _ => "on" };
        var microvm = new Command("microvm", "Cold starts of the microvm driver from a ready snapshot, on the node's channel path without a node: restore to ready, to first response, warm response, VMM memory")
        {
            kernel, iterations, vmm, jail,
        };
        microvm.SetAction(async (parse, cancellationToken) =>
        {
            var command = parse.GetValue(vmm) is { } file ? [file.FullName] : Nexus.Sandbox.Microvm.VmmExecutable.Locate();
            var count = Math.Max(1, parse.GetValue(iterations));
            bool[]? jailed = parse.GetValue(jail) switch
            {
                "off" => [false],
                "on" => [true],
                "both" => [false, true],
                _ => null,
            };
            if (jailed is null)
            {
                Console.Error.WriteLine($"error: --jail must be off, on or both, not '{parse.GetValue(jail)}'");
                return 2;
            }

            Console.WriteLine($"microvm cold starts on {Nexus.Bench.Microvm.MicrovmColdStarts.KvmKind}; VMM: {string.Join(' ', command)}");
            var medians = new List<(double Ready, double First)>();
            foreach (var inJail in jailed)
            {
                var (made, starts) = await Nexus.Bench.Microvm.MicrovmColdStarts.RunAsync(
                    parse.GetValue(kernel)!.FullName, command, count, inJail ? new Nexus.Sandbox.Microvm.VmmJailOptions() : null, line => Console.Error.WriteLine("  " + line), cancellationToken);
                Console.WriteLine(inJail ? "jail on (chroot, mount/PID/net namespaces, own uid, memory/pids/cpu cgroups):" : "jail off (memory/pids/cpu cgroups only):");
                Console.WriteLine($"first start (boot + ready snapshot + restore): {made.TotalMilliseconds:0.0} ms");
                Console.WriteLine($"VMM process start + restore -> runtime ready (NextInvocation), {starts.Count} cold starts: {Ms(starts.Select(s => s.ToReady))}");
                Console.WriteLine($"VMM process start + restore -> first response (GET + PUT over the region):  {Ms(starts.Select(s => s.ToFirstResponse))}");
                Console.WriteLine($"warm invocation on the same VM:  {Ms(starts.Select(s => s.WarmResponse))}");
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"VMM process per VM (guest pages it touched included): PSS median {Median(starts.Select(s => (double)s.VmmPssBytes)) / 1048576.0:0.0} MiB, RSS {Median(starts.Select(s => (double)s.VmmRssBytes)) / 1048576.0:0.0} MiB"));
                medians.Add((Median(starts.Select(s => s.ToReady.TotalMilliseconds)), Median(starts.Select(s => s.ToFirstResponse.TotalMilliseconds))));
            }

            if (medians.Count == 2)
            {
                Console.WriteLine(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"jail cost per cold start (medians, on/off): to ready {medians[1].Ready:0.0} / {medians[0].Ready:0.0} ms = {medians[1].Ready / medians[0].Ready:0.00}x, to first response {medians[1].First:0.0} / {medians[0].First:0.0} ms = {medians[1].First / medians[0].First:0.00}x"));
            }

            return 0;
        });
        return microvm;
    }

    private static double Median(IEnumerable<double> values) => Percentiles.Of([.. values]).P50;

    private static string Ms(IEnumerable<TimeSpan> values)
    {
        var sorted = values.Select(v => v.TotalMilliseconds).Order().ToArray();
        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"median {sorted[sorted.Length / 2]:0.0} ms (min {sorted[0]:0.0}, max {sorted[^1]:0.0})");
    }

    private static Command CreateCompare()
    {
        var functions = new Option<string>("--functions") { Description = "comma-separated example names", DefaultValueFactory = _ => "hello-s3,image-rotate" };
        var sizes = new Option<string>("--sizes") { Description = "comma-separated input sizes: 1mib, 10mib (and 1kib for hello-s3)", DefaultValueFactory = _ => "1mib,10mib" };
        var configurations = new Option<string>("--configurations") { Description = "comma-separated: baseline, nexus-sync (no prefetch, sync writes), nexus-async (prefetch + write-back)", DefaultValueFactory = _ => "baseline,nexus-sync,nexus-async" };
        var examples = new Option<DirectoryInfo?>("--examples") { Description = "the examples folder (default: ./examples, or the one above this checkout's binaries)" };
        var warm = new Option<int>("--warm") { Description = "warm invocations per case and configuration", DefaultValueFactory = _ => 100 };
        var cold = new Option<int>("--cold") { Description = "cold invocations per case and configuration (no warm instance; a nexus function's template stays)", DefaultValueFactory = _ => 10 };
        var cpu = new Option<int>("--cpu-invocations") { Description = "back-to-back warm invocations whose CPU is measured", DefaultValueFactory = _ => 50 };
        var json = new Option<FileInfo?>("--json") { Description = "also write the results as JSON here" };
        var runs = new Option<int>("--runs") { Description = "repeat every case this many times; figures are medians over the runs, with the nexus-async ratio's range", DefaultValueFactory = _ => 1 };
        var sandbox = new Option<string>("--sandbox") { Description = "oci (runc, the examples) or microvm (the configurations in microVMs: with --guest freestanding the runtime guest, --cold cold starts each; with --guest linux the examples, as for oci)", DefaultValueFactory = _ => "oci" };
        var guestKind = new Option<string>("--guest") { Description = "microvm: freestanding (the runtime guest from guest/test/runtime.c) or linux (guest/kernel/build.sh's kernel running the examples in both I/O modes)", DefaultValueFactory = _ => "freestanding" };
        var kernel = new Option<FileInfo?>("--kernel") { Description = "microvm: the guest (default: microvmKernel of node.json; here the runtime guest built from guest/test/runtime.c)" };
        var dynamodb = new Option<bool>("--dynamodb") { Description = "also run benchmarks/functions/ddb-orders (DynamoDB GetItem + PutItem, the stand-in's DynamoDB client in nexus mode) against dynalite" };
        var lambda = new Option<bool>("--lambda") { Description = "also run benchmarks/functions/lambda-invoke (one synchronous Lambda Invoke of benchmarks/functions/lambda-echo per invocation: functions invoking functions)" };
        var storage = new BenchStorageOptions();
        var compare = new Command("compare", "Run each function and input size as baseline, nexus-sync and nexus-async side by side on a private node; compare latency, memory and CPU")
        {
            functions, sizes, configurations, examples, warm, cold, cpu, json, runs, sandbox, guestKind, kernel, dynamodb, lambda,
        };
        storage.AddTo(compare);
        compare.SetAction(async (parse, cancellationToken) =>
        {
            string? linuxKernel = null;
            switch (parse.GetValue(sandbox))
            {
                case "oci":
                    break;
                case "microvm" when parse.GetValue(guestKind) == "freestanding":
                    return await CompareMicrovmAsync(parse.GetValue(configurations)!, parse.GetValue(kernel), parse.GetValue(cold), cancellationToken);
                case "microvm" when parse.GetValue(guestKind) == "linux":
                    linuxKernel = parse.GetValue(kernel)?.FullName ?? NodeOptions.Load().MicrovmKernel;
                    if (linuxKernel is null || !File.Exists(linuxKernel))
                    {
                        Console.Error.WriteLine($"error: --sandbox microvm --guest linux needs the guest kernel: pass --kernel (the vmlinux guest/kernel/build.sh prints) or set microvmKernel in node.json{(linuxKernel is null ? "" : $" ({linuxKernel} does not exist)")}");
                        return 2;
                    }

                    break;
                case "microvm":
                    Console.Error.WriteLine($"error: --guest must be freestanding or linux, not '{parse.GetValue(guestKind)}'");
                    return 2;
                default:
                    Console.Error.WriteLine($"error: --sandbox must be oci or microvm, not '{parse.GetValue(sandbox)}'");
                    return 2;
            }

            var folder = parse.GetValue(examples)?.FullName ?? FindExamples();
            if (folder is null || !Directory.Exists(folder))
            {
                Console.Error.WriteLine("error: no examples folder found; pass --examples DIR");
                return 2;
            }

            var names = parse.GetValue(functions)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var missing = names.Where(n => !File.Exists(Path.Combine(folder, n, "function.yaml"))).ToList();
            if (missing.Count > 0)
            {
                Console.Error.WriteLine($"error: --functions: no example folder with a function.yaml for {string.Join(", ", missing)} in {folder}");
                return 2;
            }

            if (await NodeAnswersAsync(NodeOptions.Load().ApiUrl, cancellationToken))
            {
                Console.Error.WriteLine("error: a node is running; the benchmark starts its own node on the same host network, so stop it first (nexus down)");
                return 2;
            }

            List<BenchCase> cases;
            List<BenchConfiguration> chosen;
            try
            {
                var sizeNames = parse.GetValue(sizes)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                cases = [.. names.SelectMany(n => sizeNames.Select(s => BenchCase.For(Path.Combine(folder, n), s)))];
                if (parse.GetValue(dynamodb))
                {
                    cases.Add(BenchCase.For(Path.GetFullPath(Path.Combine(folder, "..", "benchmarks", "functions", "ddb-orders")), "1kib"));
                }

                if (parse.GetValue(lambda))
                {
                    cases.Add(BenchCase.For(Path.GetFullPath(Path.Combine(folder, "..", "benchmarks", "functions", "lambda-invoke")), "1kib"));
                }
                chosen = [.. parse.GetValue(configurations)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchConfiguration.Parse)];
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 2;
            }

            if (parse.GetValue(runs) < 1)
            {
                Console.Error.WriteLine("error: --runs must be at least 1");
                return 2;
            }

            var home = Directory.CreateTempSubdirectory("nexus-bench-").FullName;
            RemoteStore? remote = null;
            BenchDynamoDb? dynamo = null;
            try
            {
                remote = await storage.StartAsync(parse, Console.Out, cancellationToken);
                var node = NodeOptions.Load(o => linuxKernel is null ? o with { Home = home } : o with { Home = home, MicrovmKernel = linuxKernel, MicrovmGuest = "linux" });
                if (parse.GetValue(dynamodb))
                {
                    // On loopback: the node's backend sends nexus-mode calls there, and its signing proxy baseline
                    // sandboxes' calls (NEXUS_DYNAMODB_ENDPOINT is the proxy).
                    dynamo = await BenchDynamoDb.StartAsync(cancellationToken);
                    var url = $"http://127.0.0.1:{dynamo.Port}";
                    node = node with { Services = new Dictionary<string, Nexus.Backend.Services.ServiceEndpoint>(node.Services) { ["dynamodb"] = new() { Url = url } } };
                    Console.WriteLine($"dynamodb: dynalite at {url}, table {BenchDynamoDb.Table}");
                }

                var options = new CompareOptions
                {
                    Cases = cases,
                    Configurations = chosen,
                    Warm = parse.GetValue(warm),
                    Cold = parse.GetValue(cold),
                    CpuInvocations = parse.GetValue(cpu),
                    SeedScript = Path.Combine(folder, "seed_inputs.py"),
                    Node = remote?.Apply(node) ?? node,
                    Runs = parse.GetValue(runs),
                    RemoteStore = remote,
                    Companions = parse.GetValue(lambda) ? [Path.GetFullPath(Path.Combine(folder, "..", "benchmarks", "functions", "lambda-echo"))] : [],
                    Sandbox = linuxKernel is null ? null : "microvm",
                };
                var results = await CompareBenchmark.RunAsync(options, Console.Out, cancellationToken);
                Console.WriteLine();
                var driver = linuxKernel is null ? "oci driver (runc)" : $"microvm driver (Linux guests of {Path.GetFileName(linuxKernel)}, one nexus-vmm each) on {Nexus.Bench.Microvm.MicrovmColdStarts.KvmKind}";
                Console.WriteLine($"nexus vs baseline on {Environment.MachineName}, {Environment.ProcessorCount} cores, {driver}; latency in-process at the node's invoke entry; CPU includes the uploads write-back left (drained before it is read)");
                Console.WriteLine(remote is null
                    ? "storage: local (the node's embedded store, in the node process: its CPU is in the node process's figures)"
                    : $"storage: remote {remote.Server.ToString().ToLowerInvariant()} store at {remote.Endpoint}, link {remote.Profile.Name} ({remote.Profile.Why}){(remote.PrefetchRevalidation ? "" : "; prefetched copies answer without revalidation")}; its process is reported on its own line and left out of the node figures");
                Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
                Console.Write(CompareReport.Format(results));
                if (parse.GetValue(json) is { } jsonFile)
                {
                    await File.WriteAllTextAsync(jsonFile.FullName, CompareReport.Json(results), cancellationToken);
                    Console.WriteLine($"results written to {jsonFile.FullName}");
                }

                return results.Any(r => r.Errors > 0) ? 1 : 0;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Console.Error.WriteLine($"nexus: bench compare interrupted: its node and every sandbox it started are stopped, its node home {home} is removed; no results were printed");
                throw;
            }
            catch (ArgumentException e)
            {
                Console.Error.WriteLine("error: " + e.Message);
                return 2;
            }
            finally
            {
                if (remote is not null)
                {
                    await remote.DisposeAsync();
                }

                if (dynamo is not null)
                {
                    await dynamo.DisposeAsync();
                }

                Directory.Delete(home, recursive: true);
            }
        });
        return compare;
    }

    // The configurations in microVMs: the runtime guest on the driver's real path (no Python examples: no Linux guest here).
    private static async Task<int> CompareMicrovmAsync(string configurations, FileInfo? kernel, int coldStarts, CancellationToken cancellationToken)
    {
        List<BenchConfiguration> chosen;
        try
        {
            chosen = [.. configurations.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(BenchConfiguration.Parse)];
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            return 2;
        }

        var guest = kernel?.FullName ?? NodeOptions.Load().MicrovmKernel;
        if (guest is null || !File.Exists(guest))
        {
            Console.Error.WriteLine($"error: --sandbox microvm needs the guest: pass --kernel (the runtime guest, e.g. /tmp/nexus-test-guests/runtime-<hash>.elf as the tests build it) or set microvmKernel in node.json{(guest is null ? "" : $" ({guest} does not exist)")}");
            return 2;
        }

        if (coldStarts < 1)
        {
            Console.Error.WriteLine("error: --cold must be at least 1");
            return 2;
        }

        var vmm = Nexus.Sandbox.Microvm.VmmExecutable.Locate();
        Console.WriteLine($"VMM: {string.Join(' ', vmm)}");
        var results = await Nexus.Bench.Microvm.MicrovmCompare.RunAsync(guest, vmm, chosen, coldStarts, Console.Error, cancellationToken);
        Console.WriteLine();
        Console.WriteLine($"load average at the end: {File.ReadAllText("/proc/loadavg").Trim()}");
        Console.Write(Nexus.Bench.Microvm.MicrovmCompare.Format(results, chosen, Nexus.Bench.Microvm.MicrovmColdStarts.KvmKind));
        return 0;
    }

    internal static string? FindExamples()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "examples");
                if (File.Exists(Path.Combine(candidate, "seed_inputs.py")))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    internal static async Task<bool> NodeAnswersAsync(string apiUrl, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        try
        {
            using var response = await http.GetAsync(new Uri(new Uri(apiUrl), "/nexus/v1/health"), cancellationToken);
            return true;
        }
        catch (HttpRequestException)
        {
            return false;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}
