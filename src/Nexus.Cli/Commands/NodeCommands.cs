// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Nexus.Backend.WriteBack;
using Nexus.Image;
using Nexus.Node;
using Spectre.Console;

namespace Nexus.Cli.Commands;

/// <summary><c>nexus up</c>, <c>down</c>, <c>status</c>, <c>env</c>: the node's life and how to reach it.</summary>
public static class NodeCommands
{
    private const int StartWaitSeconds = 120;

    public static IEnumerable<Command> Create()
    {
        yield return CreateUp();
        yield return CreateDown();
        yield return CreateStatus();
        yield return CreateEnv();
    }

    private static Command CreateUp()
    {
        var foreground = new Option<bool>("--foreground") { Description = "run the node in this process (Ctrl+C stops it) instead of as a background daemon" };
        var up = new Command("up", "Start the node (embedded S3 store, invoke API, sandbox pool) as a background daemon") { foreground };
        up.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            return parse.GetValue(foreground) ? await RunForegroundAsync(options, ct) : await StartDaemonAsync(options, ct);
        });
        return up;
    }

    private static Command CreateDown()
    {
        var down = new Command("down", "Stop the node: every instance is stopped and removed, then its nexus0 link and nftables table");
        down.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            using var client = NodeClient.For(options, TimeSpan.FromSeconds(10));
            if (!await client.IsHealthyAsync(ct))
            {
                Console.Error.WriteLine($"nexus: the node is not running (nothing answers at {client.BaseAddress})");
                return ExitCodes.Ok;
            }

            var pid = ReadPid(options);
            var pending = (await client.GetJsonAsync("nexus/v1/status", ct))["writeBack"]?["pending"]?.GetValue<int>() ?? 0;
            if (pending > 0)
            {
                Console.WriteLine($"nexus: draining {pending} pending write-back(s) before stopping");
            }

            await client.SendJsonAsync(HttpMethod.Post, "nexus/v1/shutdown", null, ct).ContinueWith(_ => { }, ct);
            // The node drains write-backs for at most its drain timeout (30 s) before it stops the rest.
            var stopped = await WaitAsync(async () => !await client.IsHealthyAsync(ct) && (pid is null || !IsAlive(pid.Value)), TimeSpan.FromSeconds(120), ct);
            if (!stopped)
            {
                throw new CliException(ExitCodes.Failed, $"the node did not stop within 120 s; see {NodeLog(options)}");
            }

            Console.WriteLine("nexus: node stopped");
            var left = SpoolJournal.Scan(options.WriteBackDirectory).Count;
            if (pending > 0 || left > 0)
            {
                Console.WriteLine($"nexus: write-back: {Math.Max(0, pending - left)} drained, {left} left in {options.WriteBackDirectory} (uploaded at the next start)");
            }
            return ExitCodes.Ok;
        });
        return down;
    }

    private static Command CreateStatus()
    {
        var json = new Option<bool>("--json") { Description = "print the node's status as JSON (the API's /nexus/v1/status)" };
        var status = new Command("status", "Show the node's endpoints, functions and instances") { json };
        status.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            using var client = NodeClient.For(options, TimeSpan.FromSeconds(10));
            var s = await client.GetJsonAsync("nexus/v1/status", ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(s.ToJsonString(NodeClient.Indented));
                return ExitCodes.Ok;
            }

            var fields = new TableOutput("field", "value")
                .Add("version", s["version"]!.ToString())
                .Add("started", s["startedAt"]!.ToString())
                .Add("driver", s["driver"]!.ToString())
                .Add("image", s["image"]?.ToString() ?? "-");
            foreach (var (name, value) in s["endpoints"]!.AsObject())
            {
                fields.Add(name, value!.ToString());
            }

            fields.Add("functions", s["functions"]!.ToString())
                .Add("pending events", s["pendingEvents"]!.ToString())
                .Add("waiting invocations", s["waitingInvocations"]!.ToString());
            if (s["writeBack"] is JsonObject wb)
            {
                fields.Add("pending write-backs", $"{wb["pending"]} ({wb["pendingBytes"]} bytes, {wb["failing"]} failing, oldest {wb["oldestPendingSeconds"]} s; {wb["uploaded"]} uploaded)")
                    .Add("write-back dead letters", $"{wb["deadLetters"]} ({wb["deadLetterBytes"]} bytes; see nexus spool ls)");
            }

            fields.Write();
            Console.WriteLine();
            var instances = new TableOutput("function", "starting", "idle", "busy", "waiting");
            foreach (var i in s["instances"]!.AsArray())
            {
                instances.Add(i!["function"]!.ToString(), i["starting"]!.ToString(), i["idle"]!.ToString(), i["busy"]!.ToString(), i["waiting"]!.ToString());
            }

            instances.Write();
            if (s["templates"] is JsonArray { Count: > 0 } templates)
            {
                // Fork templates are not instances (docs/templates.md): one idle process per recently run revision.
                Console.WriteLine();
                var table = new TableOutput("template of", "revision", "live forks", "PSS MiB");
                foreach (var t in templates)
                {
                    var revision = t!["revision"]?.ToString() ?? "-";
                    table.Add(
                        t["function"]?.ToString() ?? "(unknown)",
                        t["current"]!.GetValue<bool>() ? revision : revision + " (retired)",
                        t["liveInstances"]!.ToString(),
                        (t["pssBytes"]!.GetValue<long>() / 1048576.0).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture));
                }

                table.Write();
            }

            return ExitCodes.Ok;
        });
        return status;
    }

    private static Command CreateEnv()
    {
        var env = new Command("env", "Print shell exports for the AWS CLI and SDKs: eval \"$(nexus env)\"");
        env.SetAction(parse =>
        {
            var options = CommonOptions.Load(parse);
            var key = LoadAdminKey(options.CredentialsPath);
            var s3 = options.S3Endpoint ?? options.StoreUrl;
            Console.WriteLine($"export AWS_ACCESS_KEY_ID={key.AccessKeyId} AWS_SECRET_ACCESS_KEY={key.SecretAccessKey} AWS_DEFAULT_REGION=us-east-1 NEXUS_S3={s3} NEXUS_API={options.ApiUrl}");
            if (options.S3Endpoint is not null)
            {
                // The node's key opens its Lambda API, not an external store, which knows its own key (node.json's).
                Console.WriteLine($"export NEXUS_S3_ACCESS_KEY_ID={options.S3AccessKeyId} NEXUS_S3_SECRET_ACCESS_KEY={options.S3SecretAccessKey}");
                Console.Error.WriteLine("nexus: NEXUS_S3 is the external store of node.json (s3Endpoint), which takes its own key, not the node's: "
                    + "AWS_ACCESS_KEY_ID=$NEXUS_S3_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$NEXUS_S3_SECRET_ACCESS_KEY aws s3 ls --endpoint-url \"$NEXUS_S3\"");
            }

            return ExitCodes.Ok;
        });
        return env;
    }

    // The node's admin key, which only root can read where the node runs as root (the file is 0600, the home root's).
    private static KeyPair LoadAdminKey(string path)
    {
        try
        {
            // Opened first: File.Exists says false both when there is no file and when the user may not look in the folder.
            using (File.OpenHandle(path))
            {
            }

            return KeyPair.LoadOrCreateAdmin(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CliException(ExitCodes.NodeNotRunning, $"no credentials at {path}: the node has not been started yet (nexus up)");
        }
        catch (UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.StartFailed, $"nexus env must run as root: the node's key in {path} is readable by root only (the node runs as root): run nexus env as root");
        }
    }

    private static async Task<int> RunForegroundAsync(NodeOptions options, CancellationToken cancellationToken)
    {
        RequireRoot();
        if (Environment.GetEnvironmentVariable("NEXUS_NODE_LOG") is { Length: > 0 } daemonLog)
        {
            // Started by `up` with its output in the home's node.log: writes that never fail the node, and rotation.
            DaemonLog.Install(daemonLog, (long)options.NodeLogMaxMiB << 20);
        }

        Console.WriteLine($"nexus: starting node {NexusNode.Version} (home {options.Home})");
        var progress = new Progress<string>(line => Console.WriteLine("nexus: " + line));
        NexusNode node;
        try
        {
            node = await NexusNode.StartAsync(options, progress: progress, cancellationToken: cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Console.Error.WriteLine("nexus: the node failed to start: " + e.Message);
            return ExitCodes.StartFailed;
        }

        await using (node)
        {
            foreach (var problem in node.LoadProblems)
            {
                Console.Error.WriteLine("nexus: warning: " + problem);
            }

            File.WriteAllText(PidPath(options), Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            Console.WriteLine($"nexus: node ready: API {node.ApiAddress}, S3 {node.StoreAddress}, {node.Functions.Count} function(s)");
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c =>
            {
                c.Cancel = true;
                node.RequestShutdown();
            });
            try
            {
                await node.ShutdownRequested.WaitAsync(cancellationToken);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C: fall through to the orderly stop.
            }

            Console.WriteLine("nexus: stopping every instance");
        }

        File.Delete(PidPath(options));
        Console.WriteLine("nexus: node stopped");
        return ExitCodes.Ok;
    }

    private static async Task<int> StartDaemonAsync(NodeOptions options, CancellationToken cancellationToken)
    {
        using var client = NodeClient.For(options, TimeSpan.FromSeconds(5));
        if (await client.IsHealthyAsync(cancellationToken))
        {
            // A node whose management token is not this home's is another home's node on the same address.
            using (var status = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, "nexus/v1/status"), cancellationToken))
            {
                if (status.StatusCode == System.Net.HttpStatusCode.Unauthorized)
                {
                    throw new CliException(ExitCodes.StartFailed, $"another node answers at {client.BaseAddress}, not the one of home {options.Home} (its key is not this home's): stop it, or give this home another apiUrl in its node.json");
                }
            }

            Console.WriteLine($"nexus: the node is already running at {client.BaseAddress}");
            PrintUsage(options);
            return ExitCodes.Ok;
        }

        RequireRoot();
        if (ImageBuilder.MissingPrerequisite() is { } missing)
        {
            throw new CliException(ExitCodes.StartFailed, missing);
        }

        await ImageCommands.EnsureImageAsync(options, cancellationToken);

        Directory.CreateDirectory(options.Home);
        var log = NodeLog(options);
        var start = DaemonStart([.. SelfCommand(), "up", "--foreground", "--home", options.Home], log, options.Home);
        var logStart = File.Exists(log) ? new FileInfo(log).Length : 0;
        using (var launcher = Process.Start(start) ?? throw new CliException(ExitCodes.StartFailed, "could not start the node process (setsid)"))
        {
            await launcher.WaitForExitAsync(cancellationToken);
        }

        var healthy = await AnsiConsole.Status().StartAsync("starting the node", async _ =>
            await WaitAsync(async () => await client.IsHealthyAsync(cancellationToken) || NodeFailed(log, logStart), TimeSpan.FromSeconds(StartWaitSeconds), cancellationToken));
        if (!healthy || !await client.IsHealthyAsync(cancellationToken))
        {
            Console.Error.WriteLine($"nexus: the node did not become healthy; the end of {log}:");
            Console.Error.WriteLine(ReadFrom(log, logStart));
            return ExitCodes.StartFailed;
        }

        Console.WriteLine($"nexus: node running (log: {log})");
        PrintUsage(options);
        return ExitCodes.Ok;
    }

    /// <summary>
    /// How <c>up</c> starts <paramref name="command"/> as the node daemon: in a session of its own, output appended to
    /// <paramref name="log"/>, and without the descriptors this CLI inherited past stderr. Those are not close-on-exec
    /// (a caller's `flock LOCK nexus up` passes the lock's on), and a daemon holding one would keep the integration lock,
    /// or a caller's pipe, for as long as the node runs.
    /// </summary>
    public static ProcessStartInfo DaemonStart(IEnumerable<string> command, string log, string home)
    {
        var start = new ProcessStartInfo("setsid")
        {
            UseShellExecute = false,
            Environment = { ["NEXUS_NODE_LOG"] = log, ["NEXUS_HOME"] = home },
        };
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add("/bin/bash");
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("""
            for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done
            exec "$0" "$@" >>"$NEXUS_NODE_LOG" 2>&1 </dev/null
            """);
        foreach (var arg in command)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    private static void PrintUsage(NodeOptions options)
    {
        Console.WriteLine($"""
              invoke API (Lambda) : {options.ApiUrl}
              S3 store            : {options.S3Endpoint ?? options.StoreUrl}
              metrics             : {options.ApiUrl}/metrics
            Use it:
              eval "$(nexus env)"
              nexus deploy examples/hello-s3 && nexus invoke hello-s3 --payload '{"{"}{"}"}'
              aws s3 ls --endpoint-url $NEXUS_S3
              aws lambda invoke --endpoint-url $NEXUS_API --function-name hello-s3 out.json
            """);
    }

    private static bool NodeFailed(string log, long from) =>
        ReadFrom(log, from).Contains("the node failed to start", StringComparison.Ordinal);

    private static string ReadFrom(string log, long from)
    {
        if (!File.Exists(log))
        {
            return "";
        }

        using var stream = new FileStream(log, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Seek(Math.Min(from, stream.Length), SeekOrigin.Begin);
        return new StreamReader(stream).ReadToEnd();
    }

    // How to run this same CLI again: the apphost, or dotnet + nexus.dll.
    private static List<string> SelfCommand()
    {
        var process = Environment.ProcessPath ?? throw new CliException(ExitCodes.StartFailed, "cannot tell this program's path");
        var assembly = typeof(NodeCommands).Assembly.Location;
        return Path.GetFileNameWithoutExtension(process) == "dotnet" ? [process, assembly] : [process];
    }

    private static void RequireRoot()
    {
        if (Environment.UserName != "root")
        {
            throw new CliException(ExitCodes.StartFailed, "the node must run as root (it manages namespaces, cgroups and runc): run nexus up as root");
        }
    }

    private static string NodeLog(NodeOptions options) => Path.Combine(options.Home, "node.log");

    private static string PidPath(NodeOptions options) => Path.Combine(options.Home, "node.pid");

    private static int? ReadPid(NodeOptions options) =>
        File.Exists(PidPath(options)) && int.TryParse(File.ReadAllText(PidPath(options)).Trim(), out var pid) ? pid : null;

    private static bool IsAlive(int pid) => Directory.Exists($"/proc/{pid}");

    private static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan limit, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + limit;
        while (DateTime.UtcNow < deadline)
        {
            if (await condition())
            {
                return true;
            }

            await Task.Delay(200, cancellationToken);
        }

        return await condition();
    }
}
