// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.IO.Compression;
using System.Text;
using Nexus.Bench.Density;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.Bench.Tests;

/// <summary>
/// A density level counts only its own fork templates: the one before it removes its functions, whose instances and
/// templates the node stops in the background, so the next level must wait for them (DensityBenchmark's level start).
/// </summary>
[Collection(RealNodeCollection.Name)]
public sealed class DensityLevelStartTests
{
    [RootFact(runc: true)]
    public async Task A_level_starts_only_once_the_removed_functions_templates_have_stopped()
    {
        var home = Directory.CreateTempSubdirectory("nexus-bench-level-").FullName;
        try
        {
            await using var node = await NexusNode.StartAsync(new NodeOptions
            {
                Home = home,
                ApiUrl = "http://127.0.0.1:0",
                StoreUrl = "http://127.0.0.1:0",
                SandboxStoreUrl = "http://10.77.0.1:0",
                RuntimeApiUrl = "http://10.77.0.1:0",
                ServiceProxyUrl = "http://10.77.0.1:0",
            });
            await node.DeployAsync(new MemoryStream(Package("level-echo")), CancellationToken.None);
            Assert.True(node.TryGetFunction("level-echo", out var function));
            var outcome = await node.InvokeAsync(function, "{}"u8.ToArray(), "r1", CancellationToken.None);
            Assert.True(outcome.Outcome == "success", Encoding.UTF8.GetString(outcome.Result.Payload.Span));
            Assert.True(outcome.ColdStart);
            Assert.Single(node.ReadTemplateUsage());

            // As between two levels: the function goes, and its instance and template are stopped in the background.
            Assert.True(await node.RemoveAsync("level-echo", CancellationToken.None));
            await DensityBenchmark.WaitTemplatesStoppedAsync(node, CancellationToken.None);

            Assert.Empty(node.ReadTemplateUsage());
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    private static byte[] Package(string name)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            Write(zip, "function.yaml", $"name: {name}\nhandler: handler.handler\nio: nexus\n");
            Write(zip, "handler.py", "def handler(event, context):\n    return {\"ok\": True}\n");
        }

        return buffer.ToArray();
    }

    private static void Write(ZipArchive zip, string path, string text)
    {
        using var entry = zip.CreateEntry(path).Open();
        entry.Write(Encoding.UTF8.GetBytes(text));
    }
}
