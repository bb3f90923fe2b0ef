// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend;
using Nexus.Channel.Services;
using Nexus.Functions;
using Nexus.Interop;
using Nexus.Node.Transports;
using Nexus.Node.Transports.NexusChannel;
using Nexus.Sandbox;
using Nexus.Sandbox.Microvm;
using Nexus.Store;

namespace Nexus.Bench.Microvm;

/// <summary>
/// One microVM cold start: restore to the runtime's first request, to the first response, the warm response after it,
/// and the VMM process's memory after both: its whole PSS and RSS, and split from /proc/&lt;pid&gt;/smaps into the VMM
/// itself (everything but guest RAM and the Nexus region), the guest RAM the guest touched (RSS of its mappings: pages
/// shared with the snapshot's page cache plus its own copies) and the private part of that (copied on write).
/// </summary>
public sealed record MicrovmColdStart(
    TimeSpan ToReady,
    TimeSpan ToFirstResponse,
    TimeSpan WarmResponse,
    long VmmPssBytes,
    long VmmRssBytes,
    long OverheadPssBytes,
    long OverheadUssBytes,
    long GuestTouchedBytes,
    long GuestPrivateBytes);

/// <summary>
/// Cold starts of the <c>microvm</c> driver on the node's real path without a node: an embedded store on a free port, the
/// backend, the channel service host, and per iteration a new <see cref="ChannelTransport"/> and a VM restored from the
/// function's ready snapshot, invoked once cold and once warm with an event the runtime guest (guest/test/runtime.c)
/// serves (GET + PUT through the channel). Starts no node or container, but the driver's start prepares the baseline
/// host side as a node's does (root; no node may run meanwhile).
/// </summary>
public static class MicrovmColdStarts
{
    private const string Bucket = "mvm-bench";

    /// <summary>The VMM's stderr line naming its guest RAM mappings (Nexus.Vmm's ConsoleRun.GuestRamPrefix; not referenced here).</summary>
    private const string GuestRamPrefix = "nexus vmm: guest RAM at ";

    /// <summary>
    /// Makes the snapshot, then <paramref name="iterations"/> cold starts from it; with <paramref name="jail"/> every VMM
    /// (the snapshot's too) runs jailed (root, cgroup v1 and the NativeAOT nexus-vmm needed).
    /// </summary>
    public static Task<(TimeSpan SnapshotMade, List<MicrovmColdStart> Starts)> RunAsync(string guestKernel, IReadOnlyList<string> vmmCommand, int iterations, VmmJailOptions? jail, Action<string> progress, CancellationToken cancellationToken) =>
        RunAsync(guestKernel, vmmCommand, iterations, jail, BenchConfiguration.NexusAsync, progress, cancellationToken);

    /// <summary>
    /// As above, with the nexus configuration's input prefetch and write-back (<paramref name="configuration"/>:
    /// nexus-sync or nexus-async; a baseline function cannot run in the freestanding guest).
    /// </summary>
    public static async Task<(TimeSpan SnapshotMade, List<MicrovmColdStart> Starts)> RunAsync(string guestKernel, IReadOnlyList<string> vmmCommand, int iterations, VmmJailOptions? jail, BenchConfiguration configuration, Action<string> progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration.Io != IoMode.Nexus)
        {
            throw new ArgumentException($"{configuration.Name} cannot run in a microVM here: {MicrovmCompare.NoBaseline}");
        }

        var dir = Directory.CreateTempSubdirectory("nexus-microvm-bench-").FullName;
        var credentials = new StoreCredentials();
        var (key, secret) = ("bench-admin", Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)));
        credentials.Add(new StoreCredential(key, secret));
        try
        {
            await using var store = await S3StoreServer.StartAsync(new StoreOptions { DataDirectory = Path.Combine(dir, "store"), Urls = ["http://127.0.0.1:0"], Durable = false }, credentials, ct: cancellationToken);
            var url = store.BoundAddresses[0].ToString().TrimEnd('/');
            await using var backend = new NexusBackend(new NexusBackendOptions { ServiceUrl = url, AccessKey = key, SecretKey = secret, SpoolDirectory = Path.Combine(dir, "spool") });
            await using var host = new ChannelServiceHost();
            using (var admin = new AmazonS3Client(new BasicAWSCredentials(key, secret), new AmazonS3Config { ServiceURL = url, ForcePathStyle = true, AuthenticationRegion = "us-east-1", UseHttp = true }))
            {
                await admin.PutBucketAsync(Bucket, cancellationToken);
                await admin.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "in.txt", ContentBody = "microvm cold start" }, cancellationToken);
            }

            var manifest = new FunctionManifest
            {
                Name = "mvm-bench",
                Handler = "handler.handler",
                Storage = [new StorageGrant(Bucket, "", StorageAccess.ReadWrite)],
                Inputs = [new InputHint(InputValue.Parse("$.Bucket"), InputValue.Parse("$.Key"))],
                WriteBack = configuration.WriteBack ?? WriteBackMode.Async,
                Prefetch = configuration.Prefetch ?? true,
            };
            await using var driver = new MicrovmSandboxDriver(new MicrovmDriverOptions
            {
                GuestKernel = guestKernel,
                GuestKind = MicrovmGuestKind.Freestanding,
                VmmCommand = vmmCommand,
                RunDirectory = Path.Combine(dir, "run"),
                InstancePrefix = "nxb",
                Jail = jail,
            });
            await driver.PrepareHostAsync(cancellationToken);

            var made = TimeSpan.Zero;
            var starts = new List<MicrovmColdStart>();
            for (var i = 0; i <= iterations; i++)
            {
                var start = await OneAsync(host, backend, driver, manifest, $"nxb-{i}", cancellationToken);
                if (i == 0)
                {
                    // The first start also boots the guest and takes the snapshot: reported apart.
                    made = start.ToReady;
                    progress($"snapshot made and first VM ready: {made.TotalMilliseconds:0.0} ms");
                    continue;
                }

                starts.Add(start);
                progress(string.Create(CultureInfo.InvariantCulture, $"cold start {i}/{iterations}: ready {start.ToReady.TotalMilliseconds:0.0} ms, first response {start.ToFirstResponse.TotalMilliseconds:0.0} ms"));
            }

            return (made, starts);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<MicrovmColdStart> OneAsync(ChannelServiceHost host, NexusBackend backend, MicrovmSandboxDriver driver, FunctionManifest manifest, string id, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes($$"""{"Bucket":"{{Bucket}}","Key":"in.txt","OutKey":"out-{{id}}.txt"}""");
        var output = new StringBuilder();
        await using var transport = new ChannelTransport(host, backend, manifest, id);
        var started = Stopwatch.GetTimestamp();
        if (manifest.Prefetch)
        {
            transport.BeginPrefetch(Nexus.Backend.Prefetch.PrefetchHints.Start(manifest, payload));
        }

        await using var vm = await driver.StartAsync(
            new SandboxSpec
            {
                InstanceId = id,
                Driver = driver.Name,
                RootfsPath = "/",
                Command = ["(the guest kernel is the runtime)"],
                MemoryMb = manifest.MemoryMb,
                PassedFds = transport.PassedFds,
                TemplateKey = "mvm-bench-1",
                OnOutput = (line, _) =>
                {
                    lock (output)
                    {
                        output.AppendLine(line);
                    }
                },
            },
            cancellationToken);
        await transport.Ready.WaitAsync(TimeSpan.FromMinutes(2), cancellationToken);
        var ready = Stopwatch.GetElapsedTime(started);
        var first = await transport.InvokeAsync(new Invocation(id + "-cold", payload, DateTimeOffset.UtcNow.AddMinutes(1), "arn:bench"), cancellationToken);
        var firstResponse = Stopwatch.GetElapsedTime(started);
        var warmStarted = Stopwatch.GetTimestamp();
        var warm = await transport.InvokeAsync(new Invocation(id + "-warm", payload, DateTimeOffset.UtcNow.AddMinutes(1), "arn:bench"), cancellationToken);
        var warmTime = Stopwatch.GetElapsedTime(warmStarted);
        if (first.IsError || warm.IsError)
        {
            throw new InvalidOperationException($"the runtime guest answered an error: {Encoding.UTF8.GetString((first.IsError ? first : warm).Payload.Span)}\n{output}");
        }

        var memory = vm.ReadMemory();
        string lines;
        lock (output)
        {
            lines = output.ToString();
        }

        var split = SplitMemory(((MicrovmSandboxInstance)vm).Pid, lines, "/memfd:nexus-" + id + " ");
        return new MicrovmColdStart(ready, firstResponse, warmTime, memory.PssBytes, memory.RssBytes, split.Vmm.PssKiB << 10, split.Vmm.UssKiB << 10, split.GuestRam.RssKiB << 10, split.GuestRam.UssKiB << 10);
    }

    /// <summary>
    /// The VMM's smaps in three: guest RAM (the mappings the VMM named on stderr), the Nexus region (the channel's memfd,
    /// shared with the node) and the rest, which is the VMM itself.
    /// </summary>
    private static (SmapsTotals Vmm, SmapsTotals GuestRam) SplitMemory(int pid, string output, string regionPath)
    {
        var named = output.Split('\n').FirstOrDefault(l => l.StartsWith(GuestRamPrefix, StringComparison.Ordinal))
            ?? throw new InvalidOperationException("the VMM did not name its guest RAM mappings:\n" + output);
        var guestRam = named[GuestRamPrefix.Length..].Trim().Split(',').Select(m => m.Split('+')[0][2..]).ToHashSet(StringComparer.Ordinal);
        var groups = Smaps.Read(pid, 3, header => guestRam.Contains(Smaps.StartOf(header)) ? 1 : header.Contains(regionPath, StringComparison.Ordinal) ? 2 : 0);
        return (groups[0], groups[1]);
    }

    /// <summary>What /dev/kvm is here, for labelling figures.</summary>
    public static string KvmKind => Kvm.IsSoftwareOnly() ? "software-only KVM (kvm_pvm): not comparable with hardware virtualization" : "hardware KVM";
}
