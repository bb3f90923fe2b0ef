// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using Nexus.Bench.Remote;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

// Network namespaces and fixed addresses (10.78.0.0/30): one at a time, and never beside a real node test.
[Collection(RealNodeCollection.Name)]
public sealed class RemoteStoreTests
{
    private static RemoteStoreOptions Options(StorageProfile profile) =>
        new() { Profile = profile, Server = StoreServerKind.Nexus, NexusCommand = ["dotnet", NexusCli.Dll] };

    [RootFact(runc: false)]
    public async Task The_remote_store_is_reached_through_the_shaped_link_and_answers_boto3()
    {
        var store = await RemoteStore.StartAsync(Options(StorageProfile.Datacenter), TextWriter.Null, CancellationToken.None);
        int server, link;
        await using (store)
        {
            (server, link) = (store.ServerPid, store.LinkPid);

            // A TCP connect is one round trip: it cannot be shorter than the two one-way delays of the profile.
            var connects = await store.MeasureConnectTimesAsync(20, CancellationToken.None);
            Assert.All(connects, c => Assert.True(c >= 2 * StorageProfile.Datacenter.OneWayDelay, $"connect took {c.TotalMicroseconds} us, under the profile's round trip"));

            // The only route to the store is that link (no other interface holds its /30).
            var route = await Processes.RunAsync("ip", ["-o", "route", "get", RemoteStore.StoreAddress.ToString()]);
            Assert.Contains("dev " + store.HostLink, route.Stdout, StringComparison.Ordinal);

            // A real S3 client (Debian's python3 + boto3) against `nexus store serve`.
            var script = """
                import sys, boto3
                s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name="us-east-1")
                s3.create_bucket(Bucket="remote-check")
                body = bytes(range(256)) * 8192
                s3.put_object(Bucket="remote-check", Key="dir/two mib.bin", Body=body)
                got = s3.get_object(Bucket="remote-check", Key="dir/two mib.bin")["Body"].read()
                assert got == body, "body differs"
                keys = [o["Key"] for o in s3.list_objects_v2(Bucket="remote-check")["Contents"]]
                print(",".join(keys))
                """;
            var boto = await Processes.RunAsync("/usr/bin/python3", ["-c", script, store.Endpoint, store.Key.AccessKeyId, store.Key.SecretAccessKey]);
            Assert.True(boto.ExitCode == 0, boto.Stderr);
            Assert.Equal("dir/two mib.bin", boto.Stdout.Trim());
            Assert.True(store.ReadServerUsage().Cpu > TimeSpan.Zero);
        }

        Assert.Empty(RemoteStore.Leftovers());
        Assert.False(Alive(server), "the store process outlived the remote store");
        Assert.False(Alive(link), "the delay line outlived the remote store");
    }

    [RootFact(runc: false)]
    public async Task The_s3_profile_makes_the_store_answer_with_its_first_byte_latency()
    {
        await using var store = await RemoteStore.StartAsync(Options(StorageProfile.S3), TextWriter.Null, CancellationToken.None);

        // Each boto3 call waits at least the store's first-byte latency plus one round trip of the link.
        var script = """
            import sys, time, boto3
            s3 = boto3.client("s3", endpoint_url=sys.argv[1], aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3], region_name="us-east-1")
            s3.create_bucket(Bucket="s3-profile")
            s3.put_object(Bucket="s3-profile", Key="k", Body=b"x")
            times = []
            for _ in range(5):
                start = time.perf_counter()
                s3.head_object(Bucket="s3-profile", Key="k")
                times.append((time.perf_counter() - start) * 1000)
            print(min(times))
            """;
        var boto = await Processes.RunAsync("/usr/bin/python3", ["-c", script, store.Endpoint, store.Key.AccessKeyId, store.Key.SecretAccessKey]);
        Assert.True(boto.ExitCode == 0, boto.Stderr);
        var fastestMs = double.Parse(boto.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        var floorMs = (StorageProfile.S3.FirstByteLatency + (2 * StorageProfile.S3.OneWayDelay)).TotalMilliseconds;
        Assert.True(fastestMs >= floorMs, $"the fastest HeadObject took {fastestMs:0.00} ms, under the s3 profile's {floorMs} ms");
    }

    [RootFact(runc: false)]
    public async Task What_a_dead_run_left_behind_is_swept()
    {
        // A namespace with a process in it, named for an owner pid that no longer exists (as after a crash).
        var dead = FindDeadPid();
        var netns = RemoteStore.NetnsPrefix + dead;
        Assert.Equal(0, (await Processes.RunAsync("ip", ["netns", "add", netns])).ExitCode);
        using var sleeper = Process.Start(new ProcessStartInfo("ip") { ArgumentList = { "netns", "exec", netns, "sleep", "600" } })!;
        await Task.Delay(300);
        Assert.Contains(netns, RemoteStore.Leftovers());

        await RemoteStore.SweepAsync();

        Assert.DoesNotContain(netns, RemoteStore.Leftovers());
        Assert.True(sleeper.WaitForExit(5000), "the process in the swept namespace was not ended");
    }

    private static bool Alive(int pid) => Directory.Exists($"/proc/{pid}") && !File.ReadAllText($"/proc/{pid}/stat").Contains(") Z ", StringComparison.Ordinal);

    private static int FindDeadPid()
    {
        for (var pid = 4_000_000; ; pid--)
        {
            if (!Directory.Exists($"/proc/{pid}"))
            {
                return pid;
            }
        }
    }
}
