// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Nexus.Backend.WriteBack;
using Nexus.Node.Api;
using Nexus.Node.Logs;
using Nexus.Node.Pool;
using Nexus.Node.Registry;
using Nexus.Node.Transports;

namespace Nexus.Node.Tests;

/// <summary>The node's operations over a real registry and log; invocations echo the payload and are counted.</summary>
internal sealed class RecordingNode(string root) : INodeOperations
{
    private readonly ConcurrentQueue<InvocationRequest> _requests = new();
    private readonly ConcurrentQueue<(string Function, string Payload, string RequestId)> _events = new();
    private int _invocations;
    private CodeLinks? _codeLinks;

    public FunctionRegistry Registry { get; } = new(Path.Combine(root, "functions"), maxCpus: 2);

    public int Invocations => Volatile.Read(ref _invocations);

    /// <summary>What each synchronous invocation was handed, in order.</summary>
    public IReadOnlyCollection<InvocationRequest> Requests => _requests;

    /// <summary>The Event invocations queued, in order.</summary>
    public IReadOnlyCollection<(string Function, string Payload, string RequestId)> Events => _events;

    public IReadOnlyCollection<DeployedFunction> Functions => Registry.All;

    public FunctionLogs Logs { get; } = new(Path.Combine(root, "logs"));

    public bool TryGetFunction(string name, out DeployedFunction function) => Registry.TryGet(name, out function);

    public Task<InvocationOutcome> InvokeAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, InvocationRequest request, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _invocations);
        _requests.Enqueue(request);
        if (payload.Span.IndexOf("explode"u8) >= 0)
        {
            throw new IOException("disk /var/lib/nexus/spool at 10.0.0.1 failed");
        }

        if (payload.Span.IndexOf("throttle-function"u8) >= 0 || payload.Span.IndexOf("throttle-node"u8) >= 0)
        {
            var atFunction = payload.Span.IndexOf("throttle-function"u8) >= 0;
            throw new ThrottledException("the node's own words (maxInstancesPerFunction 16)", atFunction ? ThrottledException.FunctionLimit : ThrottledException.NodeLimit);
        }

        return Task.FromResult(new InvocationOutcome(new InvocationResult(payload.ToArray(), null), "ok", false, TimeSpan.Zero, "fake", []));
    }

    public Task EnqueueEventAsync(DeployedFunction function, ReadOnlyMemory<byte> payload, InvocationRequest request, CancellationToken cancellationToken)
    {
        if (payload.Span.IndexOf("queue-full"u8) >= 0)
        {
            throw new EventQueueFullException("the node's event queue is full: 3 events (1 MiB) wait to run");
        }

        if (payload.Span.IndexOf("disk-full"u8) >= 0)
        {
            throw new IOException("No space left on device : '/var/lib/nexus/events/1.event.tmp'");
        }

        _events.Enqueue((function.Manifest.Name, Encoding.UTF8.GetString(payload.Span), request.RequestId));
        return Task.CompletedTask;
    }

    public Task<FunctionChange> BeginChangeAsync(string name, CancellationToken cancellationToken) => Registry.BeginChangeAsync(name, cancellationToken);

    // The registry's deploy: unpacked first, then installed under the function's change (the caller's, or one of its own).
    public Task<DeployedFunction> DeployAsync(Stream package, Func<string?, string>? manifestOf, FunctionChange? change, CancellationToken cancellationToken) =>
        Task.Run(() => Registry.Deploy(package, manifestOf, change), cancellationToken);

    public async Task<bool> RemoveAsync(string name, CancellationToken cancellationToken)
    {
        using var change = await Registry.BeginChangeAsync(name, cancellationToken);
        return Registry.Remove(name, change);
    }

    public NodeStatus Status() => new("test", DateTimeOffset.UtcNow, "fake", null, new Dictionary<string, string>(), Registry.All.Count, 0, 0, []);

    public string ScrapeMetrics() => string.Empty;

    public WriteBackQueue? WriteBack => null;

    /// <summary>Every signature verifies; one made with <see cref="FunctionKeyId"/> is a function's key, not the admin's.</summary>
    public (string Code, string Message)? VerifySignature(HttpRequest request, string payloadSha256Hex, bool adminOnly = false) =>
        adminOnly && request.Headers.Authorization.ToString().Contains("Credential=" + FunctionKeyId + "/", StringComparison.Ordinal)
            ? (INodeOperations.NotAdminKey, $"key {FunctionKeyId} is not the node's admin key")
            : null;

    /// <summary>An access key this node takes as a function's.</summary>
    public const string FunctionKeyId = "NXFRECORDINGFUNCTION";

    /// <summary>The management token this node takes.</summary>
    public const string Token = "recording-node-token";

    public bool IsManagementToken(string? token) => token == Token;

    /// <summary>Signed with a secret of this node alone; the clock is the test's to move.</summary>
    public MovableClock Clock { get; } = new();

    public CodeLinks CodeLinks => _codeLinks ??= CodeLinks.Of("recording-node-secret", Clock);

    public void RequestShutdown()
    {
    }

    /// <summary>Asserts a Lambda-shaped API error: its status, x-amzn-ErrorType and a part of its message.</summary>
    public static async Task AssertApiErrorAsync(HttpResponseMessage response, int status, string type, string messagePart)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True((int)response.StatusCode == status, $"expected {status} {type}, got {(int)response.StatusCode}: {text}");
        Assert.Equal(type, response.Headers.GetValues("x-amzn-ErrorType").Single());
        var body = JsonNode.Parse(text);
        Assert.Contains(messagePart, (string?)(body?["Message"] ?? body?["message"]), StringComparison.Ordinal);
    }
}

/// <summary>The node API served over a <see cref="RecordingNode"/> on a free loopback port, with echo functions deployed.</summary>
internal sealed class RecordingApi : IAsyncDisposable
{
    private readonly DirectoryInfo _root;

    private RecordingApi(DirectoryInfo root, RecordingNode node, HttpHost host)
    {
        _root = root;
        Node = node;
        Host = host;
        Http = new HttpClient { BaseAddress = host.Addresses[0], Timeout = TimeSpan.FromSeconds(60) };
        Http.DefaultRequestHeaders.Add(KeyPair.ManagementTokenHeader, RecordingNode.Token);
    }

    public RecordingNode Node { get; }

    public HttpHost Host { get; }

    /// <summary>A client of the API (relative paths go to it).</summary>
    public HttpClient Http { get; }

    public Uri Base => Host.Addresses[0];

    public string Root => _root.FullName;

    /// <summary>Deploys one function per name (its handler returns the event) and starts the API.</summary>
    public static async Task<RecordingApi> StartAsync(params string[] functions)
    {
        var root = Directory.CreateTempSubdirectory("nexus-api-");
        var node = new RecordingNode(root.FullName);
        foreach (var name in functions)
        {
            node.Registry.Deploy(new MemoryStream(FunctionPackages.Zip(("function.yaml", $"name: {name}\nhandler: handler.handler\n"), ("handler.py", "def handler(e, c):\n    return e\n"))));
        }

        return new RecordingApi(root, node, await NodeApi.StartAsync(["http://127.0.0.1:0"], node, CancellationToken.None));
    }

    public async ValueTask DisposeAsync()
    {
        await Host.DisposeAsync();
        Http.Dispose();
        Node.Logs.Dispose();
        _root.Delete(recursive: true);
    }
}

/// <summary>A wall clock the test sets (timers and timestamps are the system's).</summary>
internal sealed class MovableClock : TimeProvider
{
    public DateTimeOffset Now { get; set; } = DateTimeOffset.UtcNow;

    public override DateTimeOffset GetUtcNow() => Now;
}
