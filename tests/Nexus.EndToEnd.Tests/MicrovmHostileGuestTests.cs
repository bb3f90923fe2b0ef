// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Node;
using Nexus.Node.Pool;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// A hostile guest in a microVM (guest/test/runtime.c's hostile actions) attacks the node through its own Nexus region
/// while a neighbour microVM function on the same node is invoked back to back: each attack must be contained (refused,
/// or the VM stopped and reported with Lambda's error type), every neighbour answer during and after it must be right,
/// and the hostile function must be served again afterwards. Each test names the defence it guards and what happened
/// when that defence was removed once.
/// </summary>
public sealed class MicrovmHostileGuestTests(MicrovmHostileGuestTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<MicrovmHostileGuestTests.Fixture>
{
    private const string Neighbour = "mvm-neighbour";
    private const string Hostile = "mvm-hostile";
    private const string NeighbourInput = "neighbour input";

    /// <summary>
    /// Guards the submission-tail check (HostChannel.DrainSubmissions: a tail more than a ring ahead of the host's head
    /// closes the channel). The guest overwrites its region's first MiB, the host's own ring positions included (which
    /// the host never reads back), and rings. With the check removed once, this failed: the host drained the garbage
    /// as records until another check closed the channel, under a reason that did not name the tail.
    /// </summary>
    [RootFact(runc: true, kvm: true)]
    public async Task A_guest_scribbling_over_its_region_is_stopped_and_reported_as_an_exited_runtime()
    {
        var outcome = await AttackAsync("scribble");
        await StoppedAsync(outcome, "submission tail");
    }

    /// <summary>
    /// Guards the same submission-tail check against a precise lie (a tail 2^20 records ahead). With the check removed
    /// once, this failed as the scribble test did.
    /// </summary>
    [RootFact(runc: true, kvm: true)]
    public async Task A_guest_lying_about_its_submission_tail_is_stopped_and_reported_as_an_exited_runtime()
    {
        var outcome = await AttackAsync("lie-index");
        await StoppedAsync(outcome, "submission tail");
    }

    /// <summary>
    /// Guards the completion-head check (HostChannel.TryPostCompletion: a head beyond the host's tail closes the channel
    /// before a record is written). With the check removed once, this failed: the host posted its answer into the ring
    /// and the guest was only ended by the invocation timeout (Sandbox.Timedout after 30 s).
    /// </summary>
    [RootFact(runc: true, kvm: true)]
    public async Task A_guest_lying_about_its_completion_head_is_stopped_and_reported_as_an_exited_runtime()
    {
        var outcome = await AttackAsync("lie-head");
        await StoppedAsync(outcome, "completion head");
    }

    /// <summary>
    /// Guards the first-record checks (ChannelSession.Validate: extent inside the request area, computed without
    /// overflow; length against the message; header limit; known operation): six lying requests are each refused with
    /// 400, and the same channel then serves the event. With the request-area check removed once, this failed: the
    /// storage service's own bounds check (HostChannel.RequestBytes) still refused the three lying extents, as 500s.
    /// </summary>
    [RootFact(runc: true, kvm: true)]
    public async Task A_guest_lying_in_its_records_gets_each_refused_and_keeps_its_channel()
    {
        var outcome = await AttackAsync("lie-records");
        Assert.True(outcome.Outcome == "success", Describe(outcome));
        using var result = JsonDocument.Parse(outcome.Result.Payload);
        var refused = result.RootElement.GetProperty("Refused").EnumerateArray().Select(e => e.GetInt32()).ToArray();
        Assert.Equal([400, 400, 400, 400, 400, 400], refused);
        Assert.Equal(NeighbourInput.ToUpperInvariant(), await fixture.ObjectAsync($"out/{Hostile}-lie-records.txt"));
    }

    /// <summary>
    /// Guards the coalescing doorbell (a KVM ioeventfd on an eventfd counter: 20,000 rings cost the VMM no exit and the
    /// node one empty drain per wake); the guest is then served normally on the same channel. No defence was removed
    /// for this one: the eventfd is the channel's only doorbell. Each ring is an exit into the host kernel that the VM's
    /// CPU quota pays for (VmCgroup): at its 256 MB's 0.145 CPU the flood takes seconds (200,000 rings at 64 MB's 0.036
    /// CPU outlasted the 120-s timeout).
    /// </summary>
    [RootFact(runc: true, kvm: true)]
    public async Task A_guest_flooding_its_doorbell_leaves_the_node_serving_it_and_its_neighbour()
    {
        var outcome = await AttackAsync("flood");
        Assert.True(outcome.Outcome == "success", Describe(outcome));
        using var result = JsonDocument.Parse(outcome.Result.Payload);
        Assert.Equal(20_000, result.RootElement.GetProperty("Rang").GetInt32());
        Assert.Equal(NeighbourInput.ToUpperInvariant(), await fixture.ObjectAsync($"out/{Hostile}-flood.txt"));
    }

    private static string Describe(InvocationOutcome outcome) =>
        $"{outcome.Outcome}: {Encoding.UTF8.GetString(outcome.Result.Payload.Span)}\n{Encoding.UTF8.GetString(outcome.LogTail)}";

    // The attack's VM was stopped by the node and reported as a runtime that exited, naming what the host refused; its
    // folder (pid file, VMM state) is removed.
    private static async Task StoppedAsync(InvocationOutcome outcome, string reason)
    {
        Assert.True(outcome.Outcome == "crashed", Describe(outcome));
        Assert.Equal("Runtime.ExitError", outcome.Result.ErrorType);
        Assert.Contains(reason, Encoding.UTF8.GetString(outcome.Result.Payload.Span), StringComparison.Ordinal);
        var folder = Path.Combine(MicrovmEndToEndTests.MicrovmRun, "instances", outcome.InstanceId);
        for (var attempt = 0; Directory.Exists(folder) && attempt < 100; attempt++)
        {
            await Task.Delay(100);
        }

        Assert.False(Directory.Exists(folder), $"the attacking VM's folder {folder} outlived it by 10 s");
    }

    // Runs the attack while invoking the neighbour back to back (its first call is sent together with the attack, so
    // the two are in flight at once however fast the host ends the attack), checks every neighbour answer, then that the
    // hostile function is served again. Returns the attack's outcome.
    private async Task<InvocationOutcome> AttackAsync(string action)
    {
        await fixture.NeighbourAsync("before the attack");
        var first = fixture.NeighbourAsync($"as {action} starts");
        var attack = fixture.Node.InvokeAsync(fixture.Function(Hostile), MicrovmEndToEndTests.Event("in/n.txt", $"out/{Hostile}-{action}.txt", action), fixture.NextRequestId(), CancellationToken.None);
        await first;
        var served = 1;
        while (!attack.IsCompleted)
        {
            await fixture.NeighbourAsync($"during {action} (after {served} served)");
            served++;
        }

        var outcome = await attack;
        output.WriteLine($"{action}: {outcome.Outcome} after {outcome.Duration.TotalMilliseconds:0} ms, the neighbour served {served} times meanwhile");
        await fixture.NeighbourAsync("after the attack");
        var again = await fixture.Node.InvokeAsync(fixture.Function(Hostile), MicrovmEndToEndTests.Event("in/n.txt", $"out/{Hostile}-again.txt"), fixture.NextRequestId(), CancellationToken.None);
        Assert.True(again.Outcome == "success", "the hostile function after its attack: " + Describe(again));
        return outcome;
    }

    /// <summary>A node with the runtime guest as its microvm kernel, the neighbour and the hostile function deployed.</summary>
    public sealed class Fixture : IAsyncLifetime
    {
        private readonly string _home = Directory.CreateTempSubdirectory("nexus-e2e-mvm-hostile-").FullName;
        private AmazonS3Client? _s3;
        private int _requests;

        public NexusNode Node { get; private set; } = null!;

        public async Task InitializeAsync()
        {
            if (HostRequirements.Missing(root: true, runc: true, kvm: true) is not null)
            {
                return;
            }

            Node = await NexusNode.StartAsync(NodeFixture.Options(_home) with { MicrovmKernel = TestGuests.Build("runtime"), MicrovmGuest = "freestanding" });
            _s3 = new AmazonS3Client(new BasicAWSCredentials(Node.AdminKey.AccessKeyId, Node.AdminKey.SecretAccessKey), new AmazonS3Config
            {
                ServiceURL = Node.StoreAddress.ToString(),
                ForcePathStyle = true,
                AuthenticationRegion = "us-east-1",
                UseHttp = true,
            });
            await _s3.PutBucketAsync("mvm-data");
            await _s3.PutObjectAsync(new PutObjectRequest { BucketName = "mvm-data", Key = "in/n.txt", ContentBody = NeighbourInput });
            await MicrovmEndToEndTests.DeployAsync(Node, Neighbour, timeoutSeconds: 5);

            // Long enough for the doorbell flood: 200,000 MMIO writes, each an exit, took 3 s on kvm_pvm's emulator and
            // 16 s with the guest native there (a nested host: each exit costs tens of microseconds; load average ~10).
            await MicrovmEndToEndTests.DeployAsync(Node, Hostile, timeoutSeconds: 120, memoryMb: 256);
        }

        public async Task DisposeAsync()
        {
            _s3?.Dispose();
            if (Node is not null)
            {
                await Node.DisposeAsync();
            }

            Directory.Delete(_home, recursive: true);
        }

        public DeployedFunction Function(string name) =>
            Node.TryGetFunction(name, out var function) ? function : throw new InvalidOperationException($"{name} is not deployed");

        public string NextRequestId() => "h" + Interlocked.Increment(ref _requests).ToString(System.Globalization.CultureInfo.InvariantCulture);

        public Task<string> ObjectAsync(string key) => MicrovmEndToEndTests.GetEventuallyAsync(_s3!, key);

        /// <summary>Invokes the neighbour: it must answer with its input's length and FNV-1a hash, computed here.</summary>
        public async Task NeighbourAsync(string when)
        {
            var outcome = await Node.InvokeAsync(Function(Neighbour), MicrovmEndToEndTests.Event("in/n.txt", "out/neighbour.txt"), NextRequestId(), CancellationToken.None);
            Assert.True(outcome.Outcome == "success", $"neighbour {when}: {Describe(outcome)}");
            using var result = JsonDocument.Parse(outcome.Result.Payload);
            Assert.Equal(NeighbourInput.Length, result.RootElement.GetProperty("Bytes").GetInt32());
            Assert.Equal(Fnv1a(Encoding.UTF8.GetBytes(NeighbourInput)), result.RootElement.GetProperty("Fnv1a").GetString());
        }

        private static string Fnv1a(byte[] bytes)
        {
            var hash = 2166136261u;
            foreach (var b in bytes)
            {
                hash = unchecked((hash ^ b) * 16777619u);
            }

            return hash.ToString("x8", System.Globalization.CultureInfo.InvariantCulture);
        }
    }
}
