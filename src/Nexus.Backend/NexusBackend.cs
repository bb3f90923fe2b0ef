// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using Amazon.Runtime;
using Amazon.S3;
using Nexus.Backend.WriteBack;
using Nexus.Channel;
using Nexus.Functions;
using Nexus.Interop;

namespace Nexus.Backend;

/// <summary>
/// The node's one backend: one S3 client (pooled connections, the only credentials), one doorbell thread watching
/// every attached channel, and a bounded budget of concurrent storage requests shared fairly between instances.
/// </summary>
public sealed partial class NexusBackend : IAsyncDisposable
{
    private const ulong StopToken = 0;

    private readonly FdPoller _poller = new();
    private readonly EventFd _stop = EventFd.Create(0, EventFdFlags.CloseOnExec | EventFdFlags.NonBlocking);
    private readonly ConcurrentDictionary<ulong, InstanceSession> _sessions = new();
    private readonly Thread _doorbells;
    private readonly Action<string> _log;
    private long _nextToken;
    private volatile bool _stopping;

    public NexusBackend(NexusBackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MaxInFlightPerInstance < 1 || options.MaxInFlightPerInstance > options.MaxConcurrentRequests)
        {
            throw new ArgumentException($"MaxInFlightPerInstance ({options.MaxInFlightPerInstance}) must be in [1, MaxConcurrentRequests ({options.MaxConcurrentRequests})]", nameof(options));
        }

        Options = options;
        var config = new AmazonS3Config
        {
            ServiceURL = options.ServiceUrl,
            ForcePathStyle = true,
            AuthenticationRegion = options.Region,
            UseHttp = options.ServiceUrl.StartsWith("http:", StringComparison.OrdinalIgnoreCase),
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            MaxErrorRetry = 3,
            MaxConnectionsPerServer = options.MaxConnections,
            LogMetrics = false,
            LogResponse = false,
            DisableLogging = true,
        };
        S3 = new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
        Workers = new SemaphoreSlim(options.MaxConcurrentRequests);
        _log = options.Log ?? (line => Console.Error.WriteLine("nexus: " + line));
        if (options.SpoolDirectory is { } spool)
        {
            WriteBack = new WriteBackQueue(S3, spool, options.MaxSpoolBytes, options.Uploaders, ObjectChanged, _log);
        }

        _poller.Add(_stop.Handle, StopToken);
        _doorbells = new Thread(DoorbellLoop) { IsBackground = true, Name = "nexus-doorbells" };
        _doorbells.Start();
    }

    public NexusBackendOptions Options { get; }

    /// <summary>Instances currently attached.</summary>
    public int AttachedCount => _sessions.Count;

    /// <summary>Acknowledged writes waiting for their upload; null when the backend has no spool (all writes are synchronous).</summary>
    public WriteBackQueue? WriteBack { get; }

    internal IAmazonS3 S3 { get; }

    internal SemaphoreSlim Workers { get; }

    /// <summary>Starts serving one instance's channel under <paramref name="manifest"/>'s permissions.</summary>
    public InstanceSession Attach(HostChannel channel, FunctionManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(channel);
        ArgumentNullException.ThrowIfNull(manifest);
        ObjectDisposedException.ThrowIf(_stopping, this);
        var token = (ulong)Interlocked.Increment(ref _nextToken);
        var session = new InstanceSession(this, channel, manifest, token);
        _sessions[token] = session;
        _poller.Add(channel.ToHost.Handle, token);
        // A doorbell rung before registration would be missed: check the ring once now.
        session.OnDoorbell();
        return session;
    }

    /// <inheritdoc cref="Attach"/>
    public Task<InstanceSession> AttachAsync(HostChannel channel, FunctionManifest manifest, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(Attach(channel, manifest));
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping)
        {
            return;
        }

        _stopping = true;
        foreach (var session in _sessions.Values)
        {
            await session.DisposeAsync().ConfigureAwait(false);
        }

        if (WriteBack is not null)
        {
            var pending = WriteBack.Stats.Pending;
            var left = await WriteBack.DrainAsync(Options.DrainTimeout).ConfigureAwait(false);
            await WriteBack.DisposeAsync().ConfigureAwait(false);
            if (pending > 0 || left > 0)
            {
                _log($"write-back: drained {Math.Max(0, pending - left)} upload(s); {left} left in the spool for the next start");
            }
        }

        _stop.Signal();
        _doorbells.Join();
        _poller.Dispose();
        _stop.Dispose();
        Workers.Dispose();
        S3.Dispose();
    }

    internal void Detach(InstanceSession session)
    {
        if (_sessions.TryRemove(session.Token, out _))
        {
            try
            {
                _poller.Remove(session.Channel.ToHost.Handle);
            }
            catch (ObjectDisposedException)
            {
                // The channel's owner closed the doorbell already, which also removed it from the epoll set.
            }
            catch (UnixException)
            {
                // Same: the fd is gone from the set.
            }
        }
    }

    private void DoorbellLoop()
    {
        Span<ulong> tokens = stackalloc ulong[64];
        while (!_stopping)
        {
            var n = _poller.Wait(tokens, -1);
            for (var i = 0; i < n; i++)
            {
                if (tokens[i] == StopToken || !_sessions.TryGetValue(tokens[i], out var session))
                {
                    continue;
                }

                try
                {
                    session.Channel.ToHost.TryRead(out _);
                    session.OnDoorbell();
                }
                catch (ObjectDisposedException)
                {
                    session.Close("channel disposed while attached");
                }
                catch (Exception e)
                {
                    // One instance's broken doorbell must not stop the thread that serves every other instance.
                    session.Close($"doorbell failed: {e.Message}");
                }
            }
        }
    }
}
