// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text.Json;
using Nexus.Node;
using Nexus.Node.Pool;
using Nexus.Sandbox;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// Each instance forked from a template has its own /tmp, as each Lambda execution environment has (InstanceRoots,
/// instance_root.py), on a real node with runc. Before, instances of one template shared the template's /tmp: a new
/// user's function that wrote a fixed name, uploaded it and read it back got another instance's file.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TemplateInstanceRootTests
{
    private const string Handler = """
        import json, os, time
        with open("/tmp/from-import.txt", "w") as f:
            f.write("written while the module loaded")

        def status(field):
            with open("/proc/self/status") as s:
                return next(l.split()[1] for l in s if l.startswith(field + ":"))

        def attempt(action):
            try:
                action()
                return "allowed"
            except OSError as e:
                return type(e).__name__ + ":" + str(e.errno)

        def handler(event, context):
            if event.get("do") == "exit":
                os._exit(3)
            if event.get("do") == "probe":
                st = os.statvfs("/tmp")
                return {
                    "capabilities": [status("CapEff"), status("CapPrm"), status("CapInh"), status("CapAmb")],
                    "chroot": attempt(lambda: os.chroot("/")),
                    "write_root": attempt(lambda: open("/usr/nexus-probe", "w")),
                    "roots_folder": attempt(lambda: os.listdir("/mnt")) if os.listdir("/mnt") == [] else "not empty",
                    "tmp_bytes": st.f_blocks * st.f_frsize,
                    "cwd": os.getcwd(),
                    "task": os.path.exists("/var/task/handler.py"),
                    "null": attempt(lambda: open("/dev/null", "w").write("x")),
                }
            found = sorted(os.listdir("/tmp"))
            with open("/tmp/scratch.txt", "w") as f:
                f.write(context.aws_request_id)
            time.sleep(event.get("hold", 0))
            with open("/tmp/scratch.txt") as f:
                seen = f.read()
            with open("/tmp/from-import.txt") as f:
                imported = f.read()
            return {"seen": seen, "found": found, "imported": imported}
        """;

    /// <summary>
    /// Two instances forked at once from one template each read back the file they wrote under one fixed name (with
    /// the instance roots off, the request id read back was the other's in this test); both see what the module wrote to
    /// /tmp while it loaded; a warm instance keeps its /tmp between invocations, as Lambda's does; an instance holds no
    /// capability, cannot chroot, cannot write the root, and its /tmp is its own tmpfs of the function's size; an
    /// instance's root is taken apart when it ends.
    /// </summary>
    [RootFact]
    public async Task Instances_forked_from_one_template_each_have_their_own_tmp()
    {
        var home = Directory.CreateTempSubdirectory("nexus-e2e-roots-").FullName;
        var log = new List<string>();
        var driver = TemplateEndToEndTests.LoggingDriver(log);
        try
        {
            await using var node = await NexusNode.StartAsync(NodeFixture.Options(home), new NodeComponents { Driver = driver });
            await NodeFixture.DeployAsync(node, "name: tpl-tmp\nhandler: handler.handler\nio: nexus\ntimeout: 30\n", Handler);
            Assert.True(node.TryGetFunction("tpl-tmp", out var function));

            var both = await Task.WhenAll(
                node.InvokeAsync(function, """{"hold": 1.5}"""u8.ToArray(), "r1", CancellationToken.None),
                node.InvokeAsync(function, """{"hold": 1.5}"""u8.ToArray(), "r2", CancellationToken.None));
            Assert.True(driver.Stats.Forked == 2, string.Join("\n", log));
            Assert.NotEqual(both[0].InstanceId, both[1].InstanceId);
            foreach (var (outcome, id) in both.Zip(["r1", "r2"]))
            {
                var result = Result(outcome);
                Assert.Equal(id, result.GetProperty("seen").GetString());
                Assert.Equal(["from-import.txt"], result.GetProperty("found").EnumerateArray().Select(e => e.GetString()));
                Assert.Equal("written while the module loaded", result.GetProperty("imported").GetString());
            }

            // Warm: the instance's /tmp is the one it left.
            var again = await node.InvokeAsync(function, "{}"u8.ToArray(), "r3", CancellationToken.None);
            Assert.False(again.ColdStart);
            Assert.Equal(["from-import.txt", "scratch.txt"], Result(again).GetProperty("found").EnumerateArray().Select(e => e.GetString()));

            var probe = Result(await node.InvokeAsync(function, """{"do": "probe"}"""u8.ToArray(), "p1", CancellationToken.None));
            Assert.All(probe.GetProperty("capabilities").EnumerateArray(), c => Assert.Equal("0000000000000000", c.GetString()));
            Assert.Equal("PermissionError:1", probe.GetProperty("chroot").GetString());
            Assert.Equal("OSError:30", probe.GetProperty("write_root").GetString());
            Assert.Equal("allowed", probe.GetProperty("roots_folder").GetString());
            Assert.Equal(64L << 20, probe.GetProperty("tmp_bytes").GetInt64());
            Assert.Equal("/var/task", probe.GetProperty("cwd").GetString());
            Assert.True(probe.GetProperty("task").GetBoolean());
            Assert.Equal("allowed", probe.GetProperty("null").GetString());

            // Two live instances and the root built ahead for the next: three roots (each a root and its upper layer)
            // in the template's roots folder; one instance gone, its root is gone.
            var template = Assert.Single(node.ReadTemplateUsage());
            var templatePid = int.Parse(File.ReadLines($"/sys/fs/cgroup/pids/nexus/{template.SandboxId}/cgroup.procs").First(), CultureInfo.InvariantCulture);
            var roots = $"/proc/{templatePid}/root{SandboxSpec.InstanceRootsPath}";
            Assert.Equal(6, Directory.GetDirectories(roots).Length);

            // The template (uid 65534) may pass through the roots folder but not list it: it cannot learn their names.
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute, File.GetUnixFileMode(roots));
            var exited = await node.InvokeAsync(function, """{"do": "exit"}"""u8.ToArray(), "x1", CancellationToken.None);
            Assert.Equal("Runtime.ExitError", exited.Result.ErrorType);
            for (var waited = 0; waited < 100 && Directory.GetDirectories(roots).Length > 4; waited++)
            {
                await Task.Delay(100);
            }

            Assert.Equal(4, Directory.GetDirectories(roots).Length);
        }
        finally
        {
            await driver.DisposeAsync();
            Directory.Delete(home, recursive: true);
        }
    }

    private static JsonElement Result(InvocationOutcome outcome)
    {
        Assert.True(outcome.Outcome == "success", System.Text.Encoding.UTF8.GetString(outcome.Result.Payload.Span));
        return JsonDocument.Parse(outcome.Result.Payload).RootElement.Clone();
    }
}
