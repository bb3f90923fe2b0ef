// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using System.Net;
using Nexus.Node;
using Nexus.Store;

namespace Nexus.Cli.Commands;

/// <summary><c>nexus store serve</c>: the Nexus S3 store as a standalone server process (no node).</summary>
public static class StoreCommands
{
    public static Command Create()
    {
        var store = new Command("store", "The Nexus S3 store on its own");
        var data = new Option<DirectoryInfo>("--data") { Description = "the store's data directory (created if absent)", Required = true };
        var listen = new Option<string[]>("--listen") { Description = "http://IP:PORT to listen on (repeatable; default http://127.0.0.1:9780)", AllowMultipleArgumentsPerToken = false };
        var credentials = new Option<FileInfo?>("--credentials") { Description = "JSON {accessKeyId, secretAccessKey} of the full-access key (mode 0600; made on first use; default DATA/credentials.json)" };
        var region = new Option<string>("--region") { Description = "the region requests must be signed for", DefaultValueFactory = _ => "us-east-1" };
        var stdinEof = new Option<bool>("--exit-on-stdin-eof") { Description = "stop when standard input closes (a parent that runs the store as its child dies with it)" };
        var firstByte = new Option<double>("--first-byte-latency-ms") { Description = "milliseconds to wait before every S3 response's first byte, to answer like a public object store (default 0)" };
        var serve = new Command("serve", "Serve S3 (path-style, SigV4) from a data directory until Ctrl+C or SIGTERM; a full-access key may register scoped keys at /_nexus/credentials/<id>")
        {
            data, listen, credentials, region, stdinEof, firstByte,
        };
        serve.SetAction(async (parse, cancellationToken) =>
        {
            var dataDirectory = parse.GetValue(data)!.FullName;
            var urls = parse.GetValue(listen) is { Length: > 0 } given ? given : ["http://127.0.0.1:9780"];
            foreach (var url in urls)
            {
                if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != "http" || !IPAddress.TryParse(uri.Host.Trim('[', ']'), out _) || uri.IsDefaultPort || uri.AbsolutePath != "/")
                {
                    throw new CliException(ExitCodes.Usage, $"store serve: --listen '{url}': expected http://IP:PORT (an IP address and an explicit port, no path)");
                }
            }

            var firstByteMs = parse.GetValue(firstByte);
            if (!double.IsFinite(firstByteMs) || firstByteMs is < 0 or > 60_000)
            {
                throw new CliException(ExitCodes.Usage, $"store serve: --first-byte-latency-ms {firstByteMs}: expected 0 to 60000 milliseconds");
            }

            var keyFile = parse.GetValue(credentials)?.FullName ?? Path.Combine(dataDirectory, "credentials.json");
            KeyPair admin;
            try
            {
                Directory.CreateDirectory(dataDirectory);
                admin = KeyPair.LoadOrCreateAdmin(keyFile);
            }
            catch (IOException e)
            {
                throw new CliException(ExitCodes.StartFailed, $"store serve: data directory {dataDirectory} or credentials {keyFile}: {e.Message}");
            }

            var accepted = new StoreCredentials();
            accepted.Add(new StoreCredential(admin.AccessKeyId, admin.SecretAccessKey));
            S3StoreServer server;
            try
            {
                server = await S3StoreServer.StartAsync(
                    new StoreOptions { DataDirectory = dataDirectory, Urls = urls, Region = parse.GetValue(region)!, CredentialAdmin = true, FirstByteLatency = TimeSpan.FromMilliseconds(firstByteMs) },
                    accepted,
                    ct: cancellationToken);
            }
            catch (IOException e)
            {
                throw new CliException(ExitCodes.StartFailed, $"store serve: cannot listen on {string.Join(", ", urls)}: {e.Message}");
            }

            await using (server)
            {
                Console.WriteLine($"nexus store: serving S3 on {string.Join(", ", server.BoundAddresses.Select(a => a.ToString().TrimEnd('/')))}; data {dataDirectory}; full-access key {admin.AccessKeyId} (secret in {keyFile})");
                var stopped = new TaskCompletionSource();
                using var registration = cancellationToken.Register(() => stopped.TrySetResult());
                if (parse.GetValue(stdinEof))
                {
                    _ = Task.Run(async () =>
                    {
                        using var stdin = Console.OpenStandardInput();
                        var buffer = new byte[256];
                        while (await stdin.ReadAsync(buffer) > 0)
                        {
                        }

                        stopped.TrySetResult();
                    });
                }

                await stopped.Task;
                Console.WriteLine("nexus store: stopping");
            }

            return ExitCodes.Ok;
        });
        store.Subcommands.Add(serve);
        return store;
    }
}
