// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using Nexus.Functions;
using Nexus.Node.Registry;
using Nexus.Node.Transports;

namespace Nexus.Cli.Commands;

/// <summary><c>nexus deploy</c>, <c>invoke</c>, <c>ls</c>, <c>logs</c>, <c>rm</c>: functions on the running node.</summary>
public static class FunctionCommands
{
    public static IEnumerable<Command> Create()
    {
        yield return CreateDeploy();
        yield return CreateInvoke();
        yield return CreateList();
        yield return CreateLogs();
        yield return CreateRemove();
    }

    /// <summary>Zips a function folder (without caches and VCS dirs) for upload.</summary>
    public static byte[] Package(string folder)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(folder, file).Replace('\\', '/');
                if (relative.Split('/').Any(part => part is "__pycache__" or ".git" or ".venv") || relative.EndsWith(".pyc", StringComparison.Ordinal))
                {
                    continue;
                }

                zip.CreateEntryFromFile(file, relative, CompressionLevel.Fastest);
            }
        }

        return buffer.ToArray();
    }

    private static Command CreateDeploy()
    {
        var folder = new Argument<string>("folder") { Description = "function folder: function.yaml + handler file(s)" };
        var deploy = new Command("deploy", "Deploy (or replace) a function from its folder") { folder };
        deploy.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            var dir = CheckFolder(parse.GetValue(folder)!);

            // Check locally first: the same parser the node runs, with the same file:line: field messages.
            FunctionManifest manifest;
            try
            {
                manifest = ManifestParser.LoadFolder(dir);
            }
            catch (ManifestException e)
            {
                throw new CliException(ExitCodes.Usage, $"deploy: {Path.Combine(dir, e.Message)}");
            }

            var package = Package(dir);
            if (package.Length > FunctionRegistry.MaxPackageBytes)
            {
                // The node refuses it too, but by closing the connection mid-upload: say it here, with the figures.
                throw new CliException(ExitCodes.Usage, $"deploy: {dir} zips to {package.Length / (1024.0 * 1024):0.0} MiB; the node takes function packages of at most {FunctionRegistry.MaxPackageBytes / (1024 * 1024)} MiB zipped (large data belongs in the store, read with boto3)");
            }

            using var client = NodeClient.For(options);
            using var content = new ByteArrayContent(package);
            content.Headers.ContentType = NodeClient.Zip;
            var result = await client.SendJsonAsync(HttpMethod.Post, "nexus/v1/functions", content, ct);
            Console.WriteLine($"nexus: deployed {manifest.Name} (revision {result["revision"]}, io {result["io"]}, sandbox {result["sandbox"]}, memory {result["memory"]} MB, timeout {result["timeout"]} s)");
            return ExitCodes.Ok;
        });
        return deploy;
    }

    /// <summary>The full path of a function folder, or a usage error saying what the argument is instead.</summary>
    private static string CheckFolder(string argument)
    {
        var path = Path.GetFullPath(argument);
        if (File.Exists(path))
        {
            var parent = Path.GetDirectoryName(argument) is { Length: > 0 } p ? p : ".";
            throw new CliException(ExitCodes.Usage, $"deploy: {argument} is a file; deploy takes the function's folder (function.yaml + handler), e.g. nexus deploy {parent}");
        }

        if (!Directory.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"deploy: {argument}: no such folder (deploy takes a function's folder: function.yaml + handler)");
        }

        if (!File.Exists(Path.Combine(path, ManifestParser.FileName)))
        {
            throw new CliException(ExitCodes.Usage, $"deploy: {argument} has no {ManifestParser.FileName}; a function folder holds function.yaml and the handler (see examples/)");
        }

        return path;
    }

    private static Command CreateInvoke()
    {
        var name = new Argument<string>("name") { Description = "function name" };
        var payload = new Option<string?>("--payload", "-p") { Description = "event JSON, or @file.json to read it from a file (default: {})" };
        var tail = new Option<bool>("--log") { Description = "also print the invocation's log tail (to stderr)" };
        var asEvent = new Option<bool>("--event") { Description = "invoke asynchronously (Event): the node queues it and answers 202" };
        var invoke = new Command("invoke", "Invoke a function and print its result") { name, payload, tail, asEvent };
        invoke.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            var body = ReadPayload(parse.GetValue(payload), parse.GetValue(asEvent));
            using var client = NodeClient.For(options);
            using var request = new HttpRequestMessage(HttpMethod.Post, $"2015-03-31/functions/{Uri.EscapeDataString(parse.GetValue(name)!)}/invocations")
            {
                Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            };
            request.Headers.Add("X-Amz-Invocation-Type", parse.GetValue(asEvent) ? "Event" : "RequestResponse");
            request.Headers.Add("X-Amz-Log-Type", parse.GetValue(tail) ? "Tail" : "None");
            using var response = await client.SendAsync(request, ct);
            var text = await response.Content.ReadAsStringAsync(ct);
            if ((int)response.StatusCode == 202)
            {
                Console.WriteLine("nexus: queued (Event invocation)");
                return ExitCodes.Ok;
            }

            if (!response.IsSuccessStatusCode)
            {
                await NodeClient.ReadJsonAsync(response, ct);
            }

            if (response.Headers.TryGetValues("X-Amz-Log-Result", out var logs))
            {
                Console.Error.WriteLine(Encoding.UTF8.GetString(Convert.FromBase64String(logs.First())));
            }

            Console.WriteLine(text);
            return response.Headers.Contains("X-Amz-Function-Error") ? ExitCodes.Failed : ExitCodes.Ok;
        });
        return invoke;
    }

    /// <summary>The payload's bytes, checked here as the node would check them, so an error names the argument or file.</summary>
    private static byte[] ReadPayload(string? payload, bool asEvent)
    {
        if (payload is null)
        {
            return "{}"u8.ToArray();
        }

        var body = payload.StartsWith('@') ? ReadPayloadFile(payload) : Encoding.UTF8.GetBytes(payload);
        var source = payload.StartsWith('@') ? $"--payload {payload}" : "--payload";
        if (body.Length > LambdaJson.MaxPayloadBytes)
        {
            throw new CliException(ExitCodes.Usage, string.Create(CultureInfo.InvariantCulture, $"{source}: {body.Length:N0} bytes; an invocation's payload is at most {LambdaJson.MaxPayloadBytes:N0} bytes (6 MiB)"));
        }

        // As Lambda's (and the node's) limit for asynchronous invocations: checked here, before the upload.
        if (asEvent && body.Length > LambdaJson.MaxEventPayloadBytes)
        {
            throw new CliException(ExitCodes.Usage, string.Create(CultureInfo.InvariantCulture, $"{source}: {body.Length:N0} bytes; an --event invocation's payload is at most {LambdaJson.MaxEventPayloadBytes:N0} bytes (1 MiB)"));
        }

        // Empty is allowed: the node invokes with {} then.
        if (body.Length > 0 && !LambdaJson.IsValidJson(body, out var problem))
        {
            throw new CliException(ExitCodes.Usage, $"{source}: not JSON: {problem}");
        }

        return body;
    }

    private static byte[] ReadPayloadFile(string payload)
    {
        var path = payload[1..];
        if (Directory.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"--payload {payload}: {path} is a folder; give a JSON file (@file.json) or the JSON itself");
        }

        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CliException(ExitCodes.Usage, $"--payload {payload}: cannot read {path}: {e.Message}");
        }
    }

    private static Command CreateList()
    {
        var json = new Option<bool>("--json") { Description = "print the functions as JSON (the API's /nexus/v1/functions)" };
        var ls = new Command("ls", "List deployed functions and their instances") { json };
        ls.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            using var client = NodeClient.For(options, TimeSpan.FromSeconds(30));
            var list = await client.GetJsonAsync("nexus/v1/functions", ct);
            if (parse.GetValue(json))
            {
                Console.WriteLine(list.ToJsonString(NodeClient.Indented));
                return ExitCodes.Ok;
            }

            var table = new TableOutput("name", "io", "sandbox", "handler", "memory", "timeout", "idle", "busy", "revision");
            foreach (var f in list["functions"]!.AsArray())
            {
                table.Add(
                    f!["name"]!.ToString(),
                    f["io"]!.ToString(),
                    f["sandbox"]?.ToString() ?? "",
                    f["handler"]!.ToString(),
                    f["memory"] + " MB",
                    f["timeout"] + " s",
                    f["instances"]!["idle"]!.ToString(),
                    f["instances"]!["busy"]!.ToString(),
                    f["revision"]!.ToString());
            }

            table.Write();
            return ExitCodes.Ok;
        });
        return ls;
    }

    private static Command CreateLogs()
    {
        var name = new Argument<string>("name") { Description = "function name" };
        var follow = new Option<bool>("--follow", "-f") { Description = "keep printing new lines until Ctrl+C" };
        var lines = new Option<int>("--lines", "-n") { Description = "how many of the last lines to print", DefaultValueFactory = _ => 100 };
        lines.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0)
            {
                result.AddError($"--lines must be 0 or more, got {result.GetValueOrDefault<int>()}");
            }
        });
        var logs = new Command("logs", "Print a function's log") { name, follow, lines };
        logs.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            using var client = NodeClient.For(options);
            var path = $"nexus/v1/functions/{Uri.EscapeDataString(parse.GetValue(name)!)}/logs?tail={parse.GetValue(lines)}&follow={(parse.GetValue(follow) ? "1" : "0")}";
            using var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Get, path), ct, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode)
            {
                await NodeClient.ReadJsonAsync(response, ct);
            }

            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(ct));
            try
            {
                while (await reader.ReadLineAsync(ct) is { } line)
                {
                    Console.WriteLine(line);
                }
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C ends a follow.
                return ExitCodes.Ok;
            }
            catch (IOException e)
            {
                // The node went away mid-stream (killed, or its host gone): what was printed is all there is.
                throw new CliException(ExitCodes.NodeNotRunning, $"the node at {client.BaseAddress} broke off the log ({e.Message}); it may have stopped: nexus status says whether it runs");
            }

            // A follow ends only when the node ends it: it is stopping.
            return parse.GetValue(follow)
                ? throw new CliException(ExitCodes.NodeNotRunning, $"the node at {client.BaseAddress} ended the log: it stopped")
                : ExitCodes.Ok;
        });
        return logs;
    }

    private static Command CreateRemove()
    {
        var name = new Argument<string>("name") { Description = "function name" };
        var rm = new Command("rm", "Remove a function; its instances stop") { name };
        rm.SetAction(async (parse, ct) =>
        {
            var options = CommonOptions.Load(parse);
            using var client = NodeClient.For(options, TimeSpan.FromSeconds(30));
            await client.SendJsonAsync(HttpMethod.Delete, $"nexus/v1/functions/{Uri.EscapeDataString(parse.GetValue(name)!)}", null, ct);
            Console.WriteLine($"nexus: removed {parse.GetValue(name)}");
            return ExitCodes.Ok;
        });
        return rm;
    }
}
