// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Nexus.Testing;

namespace Nexus.Cli.Tests;

/// <summary>The nexus process runs socket completions on the runtime's event threads, not through the thread pool.</summary>
public sealed class SocketCompletionsTests : IDisposable
{
    private readonly string _data = Directory.CreateTempSubdirectory("nexus-sockets-").FullName;

    public void Dispose() => Directory.Delete(_data, recursive: true);

    [Fact]
    public async Task The_nexus_process_runs_socket_completions_inline()
    {
        // What the setting changes that can be seen from outside: inline, the runtime gives every processor a socket
        // event thread ("event threads cannot be a bottleneck"); dispatching to the pool, one serves up to 30 cores. (On
        // a single processor both give one: this test then shows nothing.)
        int port;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        var url = $"http://127.0.0.1:{port}";
        using var store = Process.Start(NexusCli.Start(["store", "serve", "--data", _data, "--listen", url, "--exit-on-stdin-eof"]))!;
        try
        {
            using var client = new HttpClient();
            HttpResponseMessage? answer = null;

            // Polled, not timed: the bound only keeps a store that never starts from hanging the run.
            for (var tries = 0; answer is null && tries < 300 && !store.HasExited; tries++)
            {
                try
                {
                    answer = await client.GetAsync(url + "/");
                }
                catch (HttpRequestException)
                {
                    await Task.Delay(100);
                }
            }

            Assert.NotNull(answer);
            var eventThreads = Directory.GetDirectories($"/proc/{store.Id}/task")
                .Count(task => File.ReadAllText(Path.Combine(task, "comm")).TrimEnd('\n') == ".NET Sockets");
            Assert.Equal(Environment.ProcessorCount, eventThreads);
        }
        finally
        {
            store.StandardInput.Close();
            if (!store.WaitForExit(10_000))
            {
                store.Kill(entireProcessTree: true);
            }
        }
    }
}
