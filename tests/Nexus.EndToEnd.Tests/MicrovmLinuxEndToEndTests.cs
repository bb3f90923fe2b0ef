// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Nexus.Bench;
using Nexus.Functions;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// The examples, unchanged, in Linux microVMs on a real node: guest/kernel/build.sh's kernel booted by nexus-vmm with
/// the function image's erofs root and the function's code drive, the Python runtime in the guest. Nexus mode: cold from
/// the revision's ready snapshot (taken once the runtime loaded the handler and opened /dev/nexus-region), then warm on
/// the same VM, the stand-in boto3 over the region. Baseline: each instance boots, real boto3 over virtio-net, its TAP in
/// its own netns behind the same veth and firewall as a container. Needs /dev/kvm: hardware KVM, or this project's
/// kvm_pvm hosts, where the guest kernel runs as a pv-lite guest (first passed there in December 2026, in 43 s).
/// </summary>
public sealed class MicrovmLinuxEndToEndTests
{
    [LinuxMicrovmFact]
    public async Task Hello_s3_and_thumbnail_run_in_linux_microvms_in_both_io_modes_cold_then_warm_with_their_outputs_in_the_store()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-linuxvm-").FullName;
        var vmms = new HashSet<int>();
        try
        {
            var options = NodeFixture.Options(home) with { MicrovmKernel = GuestKernel.Path, MicrovmGuest = "linux" };
            await using (var node = await NexusNode.StartAsync(options))
            {
                await TemplateEndToEndTests.SeedAsync(node);
                using var s3 = new AmazonS3Client(new BasicAWSCredentials(node.AdminKey.AccessKeyId, node.AdminKey.SecretAccessKey), new AmazonS3Config
                {
                    ServiceURL = node.StoreAddress.ToString(),
                    ForcePathStyle = true,
                    AuthenticationRegion = "us-east-1",
                });
                foreach (var example in new[] { "hello-s3", "thumbnail" })
                {
                    foreach (var io in new[] { IoMode.Nexus, IoMode.Baseline })
                    {
                        var folder = Path.Combine(NodeFixture.Examples, example);
                        var name = $"mvm-{example}-{io.ToString().ToLowerInvariant()}";
                        using (var package = FunctionVariant.Package(folder, name, io, null, null, sandbox: "microvm"))
                        {
                            await node.DeployAsync(package, CancellationToken.None);
                        }

                        Assert.True(node.TryGetFunction(name, out var function));
                        Assert.Equal("microvm", function.Manifest.Sandbox);
                        var payload = await File.ReadAllBytesAsync(Path.Combine(folder, "event.json"));

                        var cold = await node.InvokeAsync(function, payload, name + "-cold", CancellationToken.None);
                        Assert.True(cold.Outcome == "success", $"{name}: {Encoding.UTF8.GetString(cold.Result.Payload.Span)}\n{Encoding.UTF8.GetString(cold.LogTail)}");
                        Assert.True(cold.ColdStart);
                        RecordVmm(cold.InstanceId, vmms);
                        AssertJailed(cold.InstanceId);
                        var warm = await node.InvokeAsync(function, payload, name + "-warm", CancellationToken.None);
                        Assert.True(warm.Outcome == "success", $"{name}: {Encoding.UTF8.GetString(warm.Result.Payload.Span)}\n{Encoding.UTF8.GetString(warm.LogTail)}");
                        Assert.False(warm.ColdStart);
                        Assert.Equal(cold.InstanceId, warm.InstanceId);

                        using var result = JsonDocument.Parse(warm.Result.Payload);
                        var output = await GetEventuallyAsync(s3, "nexus-examples", result.RootElement.GetProperty("output").GetString()!);
                        if (example == "hello-s3")
                        {
                            // The summary the guest wrote names the input's SHA-256, as the host computes it.
                            var input = await GetEventuallyAsync(s3, "nexus-examples", "hello-s3/input/hello.txt");
                            using var summary = JsonDocument.Parse(output);
                            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(input)), summary.RootElement.GetProperty("sha256").GetString());
                        }
                        else
                        {
                            Assert.Equal([0xff, 0xd8, 0xff], output[..3]); // a JPEG
                        }

                        // Nexus mode restores from the revision's ready snapshot; baseline boots every instance.
                        var snapshots = Directory.EnumerateDirectories(Path.Combine(MicrovmEndToEndTests.MicrovmRun, "snapshots"), $"{NexusNode.InstancePrefix}-{name}-*").Count();
                        Assert.Equal(io == IoMode.Nexus ? 1 : 0, snapshots);
                    }
                }
            }

            // Nothing is left: no VMM, instance folder, snapshot or drive.
            Assert.NotEmpty(vmms);
            Assert.All(vmms, pid => Assert.False(Directory.Exists($"/proc/{pid}/task"), $"VMM {pid} outlived the node"));
            foreach (var left in new[] { "instances", "snapshots" })
            {
                Assert.Empty(Directory.EnumerateDirectories(Path.Combine(MicrovmEndToEndTests.MicrovmRun, left), NexusNode.InstancePrefix + "*"));
            }

            Assert.Empty(Directory.EnumerateFiles(Path.Combine(MicrovmEndToEndTests.MicrovmRun, "drives"), NexusNode.InstancePrefix + "-*"));
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    // The node jails every VMM by default: the instance has its chroot, and the VMM, the one child of the unshare the
    // node started, runs as a jail uid (VmmJailOptions.UidBase and up), not as root.
    private static void AssertJailed(string instanceId)
    {
        var folder = Path.Combine(MicrovmEndToEndTests.MicrovmRun, "instances", instanceId);
        Assert.True(Directory.Exists(Path.Combine(folder, "root")), $"instance {instanceId} has no jail");
        var unshare = File.ReadAllText(Path.Combine(folder, "pid")).Trim();
        var vmm = File.ReadAllText($"/proc/{unshare}/task/{unshare}/children").Trim();
        var uid = File.ReadLines($"/proc/{vmm}/status").Single(l => l.StartsWith("Uid:", StringComparison.Ordinal)).Split('\t')[1];
        Assert.True(int.Parse(uid, System.Globalization.CultureInfo.InvariantCulture) >= new Nexus.Sandbox.Microvm.VmmJailOptions().UidBase, $"the VMM runs as uid {uid}");
    }

    private static void RecordVmm(string instanceId, HashSet<int> pids)
    {
        var pidFile = Path.Combine(MicrovmEndToEndTests.MicrovmRun, "instances", instanceId, "pid");
        if (File.Exists(pidFile))
        {
            pids.Add(int.Parse(File.ReadAllText(pidFile), System.Globalization.CultureInfo.InvariantCulture));
        }
    }

    private static async Task<byte[]> GetEventuallyAsync(AmazonS3Client s3, string bucket, string key)
    {
        var until = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                using var response = await s3.GetObjectAsync(bucket, key);
                using var bytes = new MemoryStream();
                await response.ResponseStream.CopyToAsync(bytes);
                return bytes.ToArray();
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" && DateTime.UtcNow < until)
            {
                await Task.Delay(200);
            }
        }
    }
}
