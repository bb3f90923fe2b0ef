// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Nexus.Testing;

namespace Nexus.Cli.Tests;

/// <summary>What a new user types first: help, a wrong deploy argument, a listing piped into another tool.</summary>
public sealed class CliTests : IDisposable
{
    // A revision and handler long enough that an 80-column table would wrap them.
    private const string Revision = "r7-3f9a1c2b4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081";

    private const string Functions = $$"""
        {"functions":[
          {"name":"hello-s3","io":"nexus","sandbox":"microvm","handler":"handler.handler","memory":128,"timeout":30,"instances":{"idle":1,"busy":0},"revision":"{{Revision}}"},
          {"name":"image-rotate-with-a-long-name","io":"baseline","sandbox":"oci","handler":"package.module.handler_function","memory":256,"timeout":60,"instances":{"idle":0,"busy":2},"revision":"r1"}
        ]}
        """;

    private readonly string _home = Directory.CreateTempSubdirectory("nexus-cli-").FullName;

    public void Dispose() => Directory.Delete(_home, recursive: true);

    [Fact]
    public async Task HelpIsACommand()
    {
        var (exitCode, stdout, stderr) = await NexusCli.RunAsync(["help"]);
        Assert.True(exitCode == 0, stderr);
        Assert.Contains("deploy", stdout, StringComparison.Ordinal);
        Assert.Contains("bench", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("not matched", stdout + stderr, StringComparison.Ordinal);

        var (deployExit, deployHelp, _) = await NexusCli.RunAsync(["help", "deploy"]);
        Assert.Equal(0, deployExit);
        Assert.Contains("function folder", deployHelp, StringComparison.Ordinal);

        var (unknownExit, _, unknown) = await NexusCli.RunAsync(["help", "deplo"]);
        Assert.Equal(2, unknownExit);
        Assert.Contains("help: no command 'deplo'; the commands of 'nexus' are: up, down", unknown, StringComparison.Ordinal);
    }

    /// <summary>
    /// A user who is not root cannot read the key of a node that runs as root (0600, root's): env says it needs root, as
    /// up does, whether the user may look in the node's home or not. Without LoadAdminKey's catch it said
    /// "Access to the path '.../credentials.json' is denied" (or, for a closed home, that the node had never started):
    /// tried once.
    /// </summary>
    [RootFact(runc: false)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task EnvAsAnotherUserSaysItNeedsRoot()
    {
        WriteCredentials();
        var owner = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        foreach (var homeMode in new[] { owner | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute, owner })
        {
            File.SetUnixFileMode(_home, homeMode);
            var (exitCode, stdout, stderr) = await Processes.RunAsync("runuser", ["-u", "nobody", "--", "dotnet", NexusCli.Dll, "env", "--home", _home]);
            Assert.True(exitCode == ExitCodes.StartFailed, $"home {homeMode}: exit {exitCode}: {stderr}");
            Assert.Equal("", stdout);
            Assert.Contains("nexus env must run as root", stderr, StringComparison.Ordinal);
        }

        // As root it prints the exports.
        var (rootExit, exports, rootErrors) = await NexusCli.RunAsync(["env", "--home", _home]);
        Assert.True(rootExit == 0, rootErrors);
        Assert.Contains("AWS_ACCESS_KEY_ID=AKIA0000000000000000", exports, StringComparison.Ordinal);
    }

    /// <summary>
    /// With an external store (s3Endpoint), NEXUS_S3 is that store, which does not know the node's key: env also exports
    /// the store's own key and says which key goes where. Before, `aws s3 ls --endpoint-url "$NEXUS_S3"` as the README
    /// shows it failed with InvalidAccessKeyId (an operator's review).
    /// </summary>
    [RootFact(runc: false)]
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    public async Task EnvWithAnExternalStoreExportsTheStoresOwnKey()
    {
        WriteCredentials();
        File.WriteAllText(Path.Combine(_home, "node.json"), """{"s3Endpoint": "http://10.1.2.3:9000", "s3AccessKeyId": "STOREKEY", "s3SecretAccessKey": "storesecret"}""");
        var (exitCode, exports, errors) = await NexusCli.RunAsync(["env", "--home", _home]);
        Assert.True(exitCode == 0, errors);
        Assert.Contains("NEXUS_S3=http://10.1.2.3:9000 ", exports, StringComparison.Ordinal);
        Assert.Contains("export NEXUS_S3_ACCESS_KEY_ID=STOREKEY NEXUS_S3_SECRET_ACCESS_KEY=storesecret", exports, StringComparison.Ordinal);
        Assert.Contains("takes its own key, not the node's", errors, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployOfAMissingFolderNamesItOnce()
    {
        var missing = Path.Combine(_home, "does-not-exist");
        var (exitCode, _, stderr) = await NexusCli.RunAsync(["deploy", missing], Env());
        Assert.Equal(2, exitCode);
        Assert.Equal($"nexus: deploy: {missing}: no such folder (deploy takes a function's folder: function.yaml + handler)", stderr.Trim());
    }

    [Fact]
    public async Task DeployOfAFileSaysAFolderIsExpected()
    {
        var manifest = Path.Combine(HostRequirements.RepoRoot, "examples", "hello-s3", "function.yaml");
        var (exitCode, _, stderr) = await NexusCli.RunAsync(["deploy", manifest], Env());
        Assert.Equal(2, exitCode);
        Assert.Contains($"{manifest} is a file; deploy takes the function's folder", stderr, StringComparison.Ordinal);
        Assert.Contains("nexus deploy " + Path.GetDirectoryName(manifest), stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeployOfAFolderWithoutAManifestSaysWhatIsMissing()
    {
        var (exitCode, _, stderr) = await NexusCli.RunAsync(["deploy", _home], Env());
        Assert.Equal(2, exitCode);
        Assert.Contains($"{_home} has no function.yaml", stderr, StringComparison.Ordinal);
    }

    /// <summary>
    /// A package past the node's 64 MiB limit is refused by the CLI with the figures, before it is sent: the node closes
    /// the connection under such an upload, and the CLI died of the broken pipe with a stack trace (found by a new
    /// user's test, 2026-12-06). No node listens here: a CLI that sent the package would fail otherwise.
    /// </summary>
    [Fact]
    public async Task DeployOfAPackagePastTheLimitSaysSoBeforeSendingIt()
    {
        var folder = Directory.CreateDirectory(Path.Combine(_home, "big")).FullName;
        File.WriteAllText(Path.Combine(folder, "function.yaml"), "name: big\nhandler: handler.handler\n");
        File.WriteAllText(Path.Combine(folder, "handler.py"), "def handler(event, context):\n    return 1\n");
        File.WriteAllBytes(Path.Combine(folder, "blob.bin"), System.Security.Cryptography.RandomNumberGenerator.GetBytes(70 << 20));

        var (exitCode, _, stderr) = await NexusCli.RunAsync(["deploy", folder], Env());
        Assert.Equal(2, exitCode);
        Assert.Matches($@"deploy: {Regex.Escape(folder)} zips to 7\d\.\d MiB; the node takes function packages of at most 64 MiB zipped", stderr);
    }

    [Fact]
    public async Task InvokeChecksThePayloadAndNamesItBeforeReachingTheNode()
    {
        var (inlineExit, _, inline) = await NexusCli.RunAsync(["invoke", "hello-s3", "--payload", "{\"a\": 1,"], Env());
        Assert.Equal(2, inlineExit);
        Assert.Contains("nexus: --payload: not JSON: ", inline, StringComparison.Ordinal);
        Assert.Contains("(line 1, byte 8)", inline, StringComparison.Ordinal);

        var notJson = Path.Combine(_home, "event.txt");
        File.WriteAllText(notJson, "{\n  \"Records\": [\n    oops\n  ]\n}\n");
        var (fileExit, _, file) = await NexusCli.RunAsync(["invoke", "hello-s3", "--payload", "@" + notJson], Env());
        Assert.Equal(2, fileExit);
        Assert.Contains($"nexus: --payload @{notJson}: not JSON: ", file, StringComparison.Ordinal);
        Assert.Contains("(line 3, byte 5)", file, StringComparison.Ordinal);

        var big = Path.Combine(_home, "big.json");
        File.WriteAllText(big, "\"" + new string('x', (6 * 1024 * 1024) - 1) + "\"");
        var (bigExit, _, tooBig) = await NexusCli.RunAsync(["invoke", "hello-s3", "--payload", "@" + big], Env());
        Assert.Equal(2, bigExit);
        Assert.Equal($"nexus: --payload @{big}: 6,291,457 bytes; an invocation's payload is at most 6,291,456 bytes (6 MiB)", tooBig.Trim());

        // An asynchronous invocation's limit is 1 MiB (the node's and Lambda's): said before the upload, with its size.
        var eventPayload = Path.Combine(_home, "event.json");
        File.WriteAllText(eventPayload, "\"" + new string('x', (1024 * 1024) - 1) + "\"");
        var (eventExit, _, eventTooBig) = await NexusCli.RunAsync(["invoke", "hello-s3", "--event", "--payload", "@" + eventPayload], Env());
        Assert.Equal(2, eventExit);
        Assert.Equal($"nexus: --payload @{eventPayload}: 1,048,577 bytes; an --event invocation's payload is at most 1,048,576 bytes (1 MiB)", eventTooBig.Trim());

        var (folderExit, _, folder) = await NexusCli.RunAsync(["invoke", "hello-s3", "--payload", "@" + _home], Env());
        Assert.Equal(2, folderExit);
        Assert.Contains($"{_home} is a folder; give a JSON file", folder, StringComparison.Ordinal);
    }

    [Fact]
    public async Task BadArgumentsAreBadInputWithTheirOwnMessage()
    {
        var (unknownExit, _, unknown) = await NexusCli.RunAsync(["ls", "--bogus"], Env());
        Assert.Equal(2, unknownExit);
        Assert.Contains("Unrecognized command or argument '--bogus'", unknown, StringComparison.Ordinal);

        // Refused here, not by the node in words about a query parameter the user never typed.
        var (linesExit, _, lines) = await NexusCli.RunAsync(["logs", "hello-s3", "-n", "-1"], Env());
        Assert.Equal(2, linesExit);
        Assert.Contains("--lines must be 0 or more, got -1", lines, StringComparison.Ordinal);

        // bench compare in microVMs: the guest kind and the Linux guest's kernel are checked before any node starts.
        var (guestExit, _, guest) = await NexusCli.RunAsync(["bench", "compare", "--sandbox", "microvm", "--guest", "windows"], Env());
        Assert.Equal(2, guestExit);
        Assert.Contains("--guest must be freestanding or linux, not 'windows'", guest, StringComparison.Ordinal);
        var missingKernel = Path.Combine(_home, "no-vmlinux");
        var (kernelExit, _, kernel) = await NexusCli.RunAsync(["bench", "compare", "--sandbox", "microvm", "--guest", "linux", "--kernel", missingKernel], Env());
        Assert.Equal(2, kernelExit);
        Assert.Contains($"needs the guest kernel: pass --kernel (the vmlinux guest/kernel/build.sh prints) or set microvmKernel in node.json ({missingKernel} does not exist)", kernel, StringComparison.Ordinal);

        // bench hostile likewise.
        var (hostileSandboxExit, _, hostileSandbox) = await NexusCli.RunAsync(["bench", "hostile", "--sandbox", "qemu"], Env());
        Assert.Equal(2, hostileSandboxExit);
        Assert.Contains("--sandbox must be oci or microvm, not 'qemu'", hostileSandbox, StringComparison.Ordinal);
        var (hostileKernelExit, _, hostileKernel) = await NexusCli.RunAsync(["bench", "hostile", "--sandbox", "microvm", "--kernel", missingKernel], Env());
        Assert.Equal(2, hostileKernelExit);
        Assert.Contains($"--sandbox microvm needs the guest kernel: pass --kernel (the vmlinux guest/kernel/build.sh prints) or set microvmKernel in node.json ({missingKernel} does not exist)", hostileKernel, StringComparison.Ordinal);

        // bench density and bench soak take the same two options, checked before any node starts.
        foreach (var command in new[] { "density", "soak" })
        {
            var (sandboxExit, _, sandbox) = await NexusCli.RunAsync(["bench", command, "--sandbox", "qemu"], Env());
            Assert.True(sandboxExit == 2, command + ": " + sandbox);
            Assert.Contains("--sandbox must be oci or microvm, not 'qemu'", sandbox, StringComparison.Ordinal);
            var (missingExit, _, missing) = await NexusCli.RunAsync(["bench", command, "--sandbox", "microvm", "--kernel", missingKernel], Env());
            Assert.True(missingExit == 2, command + ": " + missing);
            Assert.Contains($"--sandbox microvm needs the guest kernel: pass --kernel (the vmlinux guest/kernel/build.sh prints) or set microvmKernel in node.json ({missingKernel} does not exist)", missing, StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// `up` for a home whose node is not the one answering on its address (another home's node, whose management token
    /// differs) says so and fails, instead of "already running" and success (an operator's review: `env` then found no
    /// credentials).
    /// </summary>
    [Fact]
    public async Task UpWhereAnotherHomesNodeAnswersSaysSo()
    {
        using var api = new FakeNodeApi(
            new() { ["/nexus/v1/health"] = "ok", ["/nexus/v1/status"] = """{"error":"the management API needs the node's token"}""" },
            new() { ["/nexus/v1/status"] = 401 });
        var (exitCode, stdout, stderr) = await NexusCli.RunAsync(["up"], Env(api));
        Assert.True(exitCode == ExitCodes.StartFailed, stdout + stderr);
        Assert.Contains($"another node answers at {api.Url}/, not the one of home", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("already running", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PipedListIsOneFullWidthLinePerFunction()
    {
        using var api = new FakeNodeApi(new() { ["/nexus/v1/functions"] = Functions });
        var (exitCode, stdout, stderr) = await NexusCli.RunAsync(["ls"], Env(api, ("COLUMNS", "40")));
        Assert.True(exitCode == 0, stderr);

        var lines = stdout.TrimEnd('\n').Split('\n');
        Assert.Equal(3, lines.Length);
        Assert.Equal(["name", "io", "sandbox", "handler", "memory", "timeout", "idle", "busy", "revision"], Words(lines[0]));
        Assert.Equal(["hello-s3", "nexus", "microvm", "handler.handler", "128", "MB", "30", "s", "1", "0", Revision], Words(lines[1]));
        Assert.Equal(["image-rotate-with-a-long-name", "baseline", "oci", "package.module.handler_function", "256", "MB", "60", "s", "0", "2", "r1"], Words(lines[2]));
        Assert.DoesNotContain('│', stdout);
        Assert.DoesNotContain('─', stdout);

        // Columns line up: each starts at the same offset on every line.
        Assert.Equal(lines[0].IndexOf("revision", StringComparison.Ordinal), lines[1].IndexOf(Revision, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ListAndStatusPrintTheNodesJson()
    {
        const string Status = """{"version":"0.1","startedAt":"2026-01-01T00:00:00.1234567+00:00","driver":"oci","endpoints":{"api":"x"},"functions":2,"pendingEvents":0,"waitingInvocations":0,"instances":[],"templates":[{"function":"hello-s3","revision":"r2","current":true,"liveInstances":1,"pssBytes":12582912},{"function":"hello-s3","revision":"r1","current":false,"liveInstances":2,"pssBytes":1048576}]}""";
        using var api = new FakeNodeApi(new() { ["/nexus/v1/functions"] = Functions, ["/nexus/v1/status"] = Status });

        var (lsExit, ls, lsErr) = await NexusCli.RunAsync(["ls", "--json"], Env(api));
        Assert.True(lsExit == 0, lsErr);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Functions), JsonNode.Parse(ls)), ls);

        var (statusExit, status, statusErr) = await NexusCli.RunAsync(["status", "--json"], Env(api));
        Assert.True(statusExit == 0, statusErr);
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Status), JsonNode.Parse(status)), status);

        // Written as JSON needs it, not HTML: a timestamp's '+' stays a '+' (it was \u002B).
        Assert.Contains("\"2026-01-01T00:00:00.1234567+00:00\"", status, StringComparison.Ordinal);

        var (plainExit, plain, _) = await NexusCli.RunAsync(["status"], Env(api));
        Assert.Equal(0, plainExit);
        Assert.Contains("driver", plain.Split('\n').Single(l => l.StartsWith("driver", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Equal(["driver", "oci"], Words(plain.Split('\n').Single(l => l.StartsWith("driver", StringComparison.Ordinal))));

        // Fork templates are listed apart from instances, a retired revision's marked.
        Assert.Equal(["hello-s3", "r2", "1", "12.0"], Words(plain.Split('\n').Single(l => l.Contains(" r2 ", StringComparison.Ordinal))));
        Assert.Equal(["hello-s3", "r1", "(retired)", "2", "1.0"], Words(plain.Split('\n').Single(l => l.Contains(" r1 ", StringComparison.Ordinal))));
    }

    // Found by an operator's review: `nexus logs -f` while the node was killed (kill -9) ended in an unhandled
    // HttpIOException, its stack trace and exit 134; a follow the node ended (nexus down) ended with 0 and no word.
    [Fact]
    public async Task LogsSaysSoWhenTheNodeBreaksOffOrEndsAFollow()
    {
        const string Lines = "2026-12-07T13:20:03.474Z nx77de1db97b09 - one\n2026-12-07T13:20:03.479Z nx77de1db97b09 - two\n";
        using (var killed = new FakeNodeApi(new() { ["/nexus/v1/functions/sleepy/logs"] = Lines }, brokenOff: ["/nexus/v1/functions/sleepy/logs"]))
        {
            var (exitCode, stdout, stderr) = await NexusCli.RunAsync(["logs", "sleepy", "-f"], Env(killed));
            Assert.Equal(3, exitCode);
            Assert.Equal(Lines, stdout);
            Assert.StartsWith($"nexus: the node at {killed.Url}/ broke off the log (", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }

        using var stopped = new FakeNodeApi(new() { ["/nexus/v1/functions/sleepy/logs"] = Lines });
        var (followExit, followed, followErr) = await NexusCli.RunAsync(["logs", "sleepy", "-f"], Env(stopped));
        Assert.Equal(3, followExit);
        Assert.Equal(Lines, followed);
        Assert.Equal($"nexus: the node at {stopped.Url}/ ended the log: it stopped\n", followErr);

        // Without -f the end of the log is the end of the command.
        var (tailExit, tail, tailErr) = await NexusCli.RunAsync(["logs", "sleepy"], Env(stopped));
        Assert.True(tailExit == 0, tailErr);
        Assert.Equal(Lines, tail);
    }

    // Found by an operator's review: an invoke the node broke off (nexus down or kill -9 while it ran) said the request
    // "was being sent" and pointed at "node.log in its home, /var/lib/nexus by default" whatever the home was.
    [Fact]
    public async Task AnInvokeTheNodeBreaksOffNamesThisNodesLog()
    {
        const string Path = "/2015-03-31/functions/sleepy/invocations";
        using var api = new FakeNodeApi(new() { [Path] = """{"partial":""" }, brokenOff: [Path]);
        var (exitCode, _, stderr) = await NexusCli.RunAsync(["invoke", "sleepy"], Env(api));
        Assert.Equal(1, exitCode);
        Assert.StartsWith($"nexus: the node at {api.Url}/ closed the connection during POST {api.Url}{Path} (", stderr, StringComparison.Ordinal);
        Assert.EndsWith($"the node's log ({_home}/node.log) may say why\n", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void PlainTableTrimsAndPadsToTheWidestCell()
    {
        var table = new TableOutput("a", "bb").Add("long cell", "x").Add("y", "");
        Assert.Equal("a          bb\nlong cell  x\ny\n", table.Plain());
    }

    [Fact]
    public void ImageBuildShowsOneLinePerPhaseOnAPipe()
    {
        var log = Path.Combine(_home, "logs", "image-build.log");
        var shown = new List<string>();
        using (var progress = new ImageBuildProgress(log, shown.Add, phasesOnly: true))
        {
            // debootstrap's shape: a Retrieving/Validating pair per package, then the install phases.
            foreach (var line in (string[])["Retrieving InRelease", "Retrieving Packages", "Validating Packages", "Retrieving libc6 2.36", "Validating libc6 2.36", "Retrieving bash 5.2", "Validating bash 5.2", "Extracting libc6...", "Extracting bash...", "Unpacking required packages...", "Configuring required packages...", "Unpacking the base system..."])
            {
                progress.Report(line);
            }
        }

        Assert.Equal(["Retrieving InRelease", "Validating Packages", "Extracting libc6...", "Unpacking required packages...", "Configuring required packages..."], shown);
        Assert.Equal(12, File.ReadAllLines(log).Length);
        Assert.EndsWith(" Unpacking the base system...", File.ReadAllLines(log)[^1], StringComparison.Ordinal);
    }

    private static string[] Words(string line) => line.Split(' ', StringSplitOptions.RemoveEmptyEntries);

    // A node key in the home, as a node writes it (0600).
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private void WriteCredentials()
    {
        var credentials = Path.Combine(_home, "credentials.json");
        File.WriteAllText(credentials, "{\"accessKeyId\":\"AKIA0000000000000000\",\"secretAccessKey\":\"s\"}");
        File.SetUnixFileMode(credentials, UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    private Dictionary<string, string> Env(FakeNodeApi? api = null, params (string Name, string Value)[] extra)
    {
        var env = new Dictionary<string, string>
        {
            ["NEXUS_HOME"] = _home,

            // Nothing listens here unless a fake API is given: a command that wrongly reaches the node fails.
            ["NEXUS_API_URL"] = api?.Url ?? "http://127.0.0.1:9",
        };
        foreach (var (name, value) in extra)
        {
            env[name] = value;
        }

        return env;
    }
}
