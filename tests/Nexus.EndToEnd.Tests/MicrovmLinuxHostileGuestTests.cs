// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Hostile;
using Nexus.Node;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// The hostile tenants of issue 13, unchanged Python functions, each in its own Linux microVM (guest/kernel/build.sh's
/// kernel, the function image's root, the runtime on /dev/nexus-region), attack a real node while a victim in another
/// Linux microVM is invoked back to back: each attack must be contained and reported with Lambda's error type, and every
/// victim answer during and after it must be right. The guest's kernel and its region driver are the guest's to
/// subvert: what is tested is the host's side (the channel's checks, the doorbell, the VMM's limits, the node's
/// timeouts), as for a container, with the guest's own memory and /tmp in place of the cgroup's.
/// </summary>
public sealed class MicrovmLinuxHostileGuestTests(MicrovmLinuxHostileGuestTests.Fixture fixture, ITestOutputHelper output) : IClassFixture<MicrovmLinuxHostileGuestTests.Fixture>
{
    /// <summary>
    /// Guards the submission-tail check (HostChannel.DrainSubmissions) against a guest that overwrites the first MiB of
    /// its region through its own mapping of /dev/nexus-region and rings: the VM is stopped and reported as a runtime
    /// that exited, naming the tail.
    /// </summary>
    [LinuxMicrovmFact]
    public async Task A_guest_scribbling_over_its_region_is_stopped_and_reported_as_an_exited_runtime()
    {
        var body = await AttackAsync("scribble");
        Assert.Contains("submission tail", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// Guards the outstanding-request cap (ChannelSessionOptions.MaxOutstandingPerInstance) against a guest publishing
    /// records as fast as the host drains them and never reading a completion.
    /// </summary>
    [LinuxMicrovmFact]
    public async Task A_guest_flooding_its_ring_loses_its_channel_and_is_reported_as_an_exited_runtime()
    {
        var body = await AttackAsync("ring-flood");
        Assert.Contains("outstanding", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// Guards the invocation timeout's stop of a VM whose guest holds every response slot it was lent: the VM is
    /// stopped, its slots and permits returned, and the victim is served meanwhile.
    /// </summary>
    [LinuxMicrovmFact]
    public async Task A_guest_hoarding_its_slots_times_out_and_others_are_served() => await AttackAsync("slot-hoard");

    /// <summary>Guards the bounded, thread-free waits for completion space against a guest that never reads one.</summary>
    [LinuxMicrovmFact]
    public async Task A_guest_that_never_reads_completions_times_out_and_others_are_served() => await AttackAsync("completion-ignore");

    /// <summary>
    /// Guards the coalescing doorbell (the guest's doorbell write is a KVM ioeventfd on an eventfd counter: no exit to
    /// the VMM, one empty drain per wake) against 10,000 rings a second for 2 s with nothing in the ring.
    /// </summary>
    [LinuxMicrovmFact]
    public async Task A_doorbell_storm_from_a_guest_leaves_the_node_serving() => await AttackAsync("doorbell-storm");

    /// <summary>Guards the guest's /tmp size (the manifest's, a tmpfs nexus-init mounts): writes fail with ENOSPC.</summary>
    [LinuxMicrovmFact]
    public async Task A_guest_filling_tmp_gets_no_space_left()
    {
        var body = await AttackAsync("tmp-fill");
        Assert.Contains("No space left on device", body, StringComparison.Ordinal);
    }

    /// <summary>
    /// Guards the guest's memory (the function's, the VM's RAM) and its report: the guest's own OOM killer ends the
    /// runtime, and the node reports Lambda's Runtime.OutOfMemory; the host's memory cgroup of the VM is never reached.
    /// </summary>
    [LinuxMicrovmFact]
    public async Task A_guest_allocating_past_its_memory_is_reported_out_of_memory() => await AttackAsync("memory-hog");

    private Task<string> AttackAsync(string name) =>
        HostileAttack.RunAsync(fixture, HostileTenants.Get(name).InMicrovm(), HostileTenants.Victim.InMicrovm(), output);

    /// <summary>A node whose microVMs boot the project's Linux guest kernel.</summary>
    public sealed class Fixture : NodeFixture
    {
        protected override string? Missing => HostRequirements.Missing(root: true, runc: true, kvm: true) ?? GuestKernel.Missing;

        protected override Task<NodeOptions> OptionsAsync() =>
            Task.FromResult(Options(Home) with { MicrovmKernel = GuestKernel.Path, MicrovmGuest = "linux" });
    }
}
