// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Channel;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>
/// Guards the per-function in-flight budget (<see cref="NexusBackendOptions.MaxInFlightPerFunction"/>, taken in
/// StorageService.ServeAsync): a tenant scaled out to many instances, each holding as many storage requests as its
/// instance budget allows and never reading their answers, cannot take the backend's global budget from another
/// function. With the function budget removed once, the victim's GET waited for the 60 s stall limit and this failed.
/// </summary>
public sealed class FairnessTests : IAsyncLifetime
{
    private NodeUnderTest _node = null!;

    public async Task InitializeAsync()
    {
        _node = await NodeUnderTest.StartAsync(
            stallTimeout: TimeSpan.FromSeconds(60),
            configure: o => o with { MaxConcurrentRequests = 8, MaxInFlightPerInstance = 2, MaxInFlightPerFunction = 4 });
        await _node.PutAsync("fn/big", new byte[4 << 20]);
        await _node.PutAsync("fn/small", "victim's input"u8.ToArray());
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public async Task A_tenant_holding_its_whole_budget_leaves_the_backend_to_another_function()
    {
        // Tenant A: four instances with 64 KiB of response slots each, two 4 MiB GETs apiece, slots never released:
        // eight requests stuck on their sandboxes, as many as the whole global budget.
        var hog = new List<RawSandbox>();
        for (var i = 0; i < 4; i++)
        {
            var (channel, _) = _node.Attach(new ChannelOptions { RegionSize = 1 << 20, SlotSize = 64 << 10 }, NodeUnderTest.Manifest("tenant-a"));
            var sandbox = new RawSandbox(channel);
            hog.Add(sandbox);
            sandbox.SubmitRequest(1, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/big"}""");
            sandbox.SubmitRequest(2, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/big"}""", relative: 4096);
        }

        // Let every one of A's requests that can get a permit take it and stall on its slots.
        await Task.Delay(TimeSpan.FromSeconds(1));

        var (victimChannel, victimSession) = _node.Attach(manifest: NodeUnderTest.Manifest("tenant-b"));
        using var victim = new RawSandbox(victimChannel);
        var started = Stopwatch.StartNew();
        victim.SubmitRequest(1, ChannelOp.GetObject, """{"Bucket":"nexus-test","Key":"fn/small"}""");
        var answer = await victim.NextCompletionAsync(TimeSpan.FromSeconds(15));

        Assert.True(answer is not null, $"the victim's GET got no answer in {started.Elapsed.TotalSeconds:0.0} s: tenant A holds the backend");
        Assert.Equal(200, answer.Value.Status);
        Assert.Null(victimSession.CloseReason);
        foreach (var sandbox in hog)
        {
            sandbox.Dispose();
        }
    }
}
