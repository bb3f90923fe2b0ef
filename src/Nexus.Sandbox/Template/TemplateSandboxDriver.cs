// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Security.Cryptography;
using System.Text;

namespace Nexus.Sandbox.Template;

/// <summary>What the template driver has done (for status and benchmarks).</summary>
public sealed record TemplateStats(int Templates, long TemplatesStarted, long Forked, long Fallbacks);

/// <summary>
/// Cold starts from a pre-initialized state: instances whose spec has a <see cref="SandboxSpec.TemplateKey"/> are forked
/// from a template sandbox that loaded the runtime and the handler once (one per key, started on first need, kept while
/// it is used); other specs go to the inner driver unchanged. If a template cannot be started or cannot fork, the
/// instance is started afresh by the inner driver and the log says why: a template is an optimization, never a failure.
/// </summary>
public sealed class TemplateSandboxDriver : ISandboxDriver, IAsyncDisposable
{
    private readonly ISandboxDriver _inner;
    private readonly TemplateDriverOptions _options;
    private readonly Dictionary<string, Task<ForkTemplate>> _templates = new(StringComparer.Ordinal);

    // Keys whose revision was retired while the template still had instances: stopped by the reaper once they are gone.
    private readonly HashSet<string> _released = new(StringComparer.Ordinal);

    // Keys whose template did not get ready within ReadyTimeout or could not load the handler, and until when their
    // instances start afresh.
    private readonly Dictionary<string, DateTime> _startAfresh = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _reaper;
    private long _started;
    private long _forked;
    private long _fallbacks;
    private int _disposed;

    public TemplateSandboxDriver(ISandboxDriver inner, TemplateDriverOptions? options = null)
    {
        _inner = inner;
        _options = (options ?? new TemplateDriverOptions()) is var o && o.Log is null ? o with { Log = line => Console.Error.WriteLine("nexus: " + line) } : o;
        _reaper = ReapLoopAsync();
    }

    public string Name => _inner.Name;

    public TemplateStats Stats
    {
        get
        {
            lock (_lock)
            {
                return new TemplateStats(_templates.Count, Interlocked.Read(ref _started), Interlocked.Read(ref _forked), Interlocked.Read(ref _fallbacks));
            }
        }
    }

    /// <summary>
    /// Memory and CPU of every running template (its own cgroup: its forked instances are in theirs). A template's pages
    /// are shared with its instances, so each instance's PSS holds only its share: the template's share is this.
    /// </summary>
    public IReadOnlyList<TemplateUsage> ReadTemplateUsage()
    {
        List<ForkTemplate> running;
        lock (_lock)
        {
            running = [.. _templates.Values.Where(t => t.IsCompletedSuccessfully && t.Result.Alive).Select(t => t.Result)];
        }

        var usage = new List<TemplateUsage>(running.Count);
        foreach (var template in running)
        {
            try
            {
                usage.Add(new TemplateUsage(template.Key, template.LiveInstances, template.Sandbox.InstanceId, template.Sandbox.ReadMemory(), template.Sandbox.ReadCpuTime()));
            }
            catch (IOException)
            {
                // Stopped between the snapshot and the reading: it holds nothing any more.
            }
        }

        return usage;
    }

    public Task PrepareHostAsync(CancellationToken cancellationToken) => _inner.PrepareHostAsync(cancellationToken);

    public Task RestrictSandboxTrafficAsync(IReadOnlyCollection<int> serviceTcpPorts, IPEndPoint? routedEndpoint, CancellationToken cancellationToken) =>
        _inner.RestrictSandboxTrafficAsync(serviceTcpPorts, routedEndpoint, cancellationToken);

    public Task ReleaseHostAsync() => _inner.ReleaseHostAsync();

    public string? WhyHostCannotRun(string? sandbox) => _inner.WhyHostCannotRun(sandbox);

    public async Task<ISandboxInstance> StartAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.TemplateKey is null || _stopping.IsCancellationRequested)
        {
            return await _inner.StartAsync(spec, cancellationToken);
        }

        if (StartsAfresh(spec.TemplateKey))
        {
            return await _inner.StartAsync(spec, cancellationToken);
        }

        ForkTemplate? template = null;
        try
        {
            template = await GetTemplateAsync(spec, cancellationToken);
            var instance = await template.ForkAsync(spec, cancellationToken);
            Interlocked.Increment(ref _forked);
            return instance;
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            Interlocked.Increment(ref _fallbacks);
            _options.Log!($"instance {spec.InstanceId}: starting afresh, the template of {spec.TemplateKey} could not fork it: {e.Message}");
            if (template is not null)
            {
                Evict(template);
            }

            return await _inner.StartAsync(spec, cancellationToken);
        }
    }

    /// <summary>
    /// The template of <paramref name="templateKey"/> stops now if no instance forked from it is alive, else once the
    /// last one is gone (the reaper's next round). Without this, every retired revision's template (a container, its
    /// cgroups, descriptors and threads) stayed for the whole keep-alive: `nexus bench soak` with redeploys found it.
    /// </summary>
    public void ReleaseTemplate(string templateKey)
    {
        ForkTemplate? stop = null;
        lock (_lock)
        {
            if (!_templates.TryGetValue(templateKey, out var task))
            {
                return;
            }

            if (task.IsCompletedSuccessfully && task.Result.LiveInstances == 0)
            {
                _templates.Remove(templateKey);
                stop = task.Result;
            }
            else
            {
                _released.Add(templateKey);
            }
        }

        if (stop is not null)
        {
            _ = stop.DisposeAsync().AsTask();
        }
    }

    /// <summary>Stops every template (and so every instance forked from one).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stopping.CancelAsync();
        try
        {
            await _reaper;
        }
        catch (OperationCanceledException)
        {
        }

        Task<ForkTemplate>[] all;
        lock (_lock)
        {
            all = [.. _templates.Values];
            _templates.Clear();
        }

        foreach (var t in all)
        {
            try
            {
                await (await t).DisposeAsync();
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                // A template that never started has nothing to stop.
            }
        }

        _stopping.Dispose();
    }

    private Task<ForkTemplate> GetTemplateAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        var key = spec.TemplateKey!;
        lock (_lock)
        {
            if (_templates.TryGetValue(key, out var existing) && (!existing.IsCompleted || (existing.IsCompletedSuccessfully && existing.Result.Alive)))
            {
                return existing;
            }

            if (existing is { IsCompletedSuccessfully: true })
            {
                _ = existing.Result.DisposeAsync().AsTask();
            }

            // Started on its own token: a template outlives the invocation that asked for it.
            _released.Remove(key);
            var started = StartTemplateAsync(spec);
            _templates[key] = started;
            return started.WaitAsync(cancellationToken);
        }
    }

    private async Task<ForkTemplate> StartTemplateAsync(SandboxSpec spec)
    {
        await Task.Yield();
        var id = TemplateId(spec);
        try
        {
            var template = await ForkTemplate.StartAsync(_inner, spec, id, _options, _stopping.Token);
            Interlocked.Increment(ref _started);
            _options.Log!($"template {id} of {spec.TemplateKey} is ready");
            return template;
        }
        catch (Exception e)
        {
            lock (_lock)
            {
                // Let the next cold start try again rather than fail forever on a stale task.
                if (_templates.TryGetValue(spec.TemplateKey!, out var current) && current.IsFaulted)
                {
                    _templates.Remove(spec.TemplateKey!);
                    _released.Remove(spec.TemplateKey!);
                }

                if (e is TimeoutException)
                {
                    _startAfresh[spec.TemplateKey!] = DateTime.UtcNow + _options.KeepAlive;
                    _options.Log!($"template {id} of {spec.TemplateKey} was not ready within {_options.ReadyTimeout.TotalSeconds:0.##} s (the init limit): its instances start afresh for {_options.KeepAlive.TotalMinutes:0.##} min, under the node's init limit");
                }
                else if (e is HandlerLoadException)
                {
                    // Each cold start built a template that failed, then a container that reported the error: two sandbox
                    // starts a call (an operator's review). The container alone reports it, as Lambda's init does.
                    _startAfresh[spec.TemplateKey!] = DateTime.UtcNow + _options.KeepAlive;
                    _options.Log!($"template {id} of {spec.TemplateKey} could not load the handler: its instances start afresh for {_options.KeepAlive.TotalMinutes:0.##} min, each reporting the error");
                }
            }

            throw;
        }
    }

    private bool StartsAfresh(string key)
    {
        lock (_lock)
        {
            if (!_startAfresh.TryGetValue(key, out var until))
            {
                return false;
            }

            if (DateTime.UtcNow < until)
            {
                return true;
            }

            _startAfresh.Remove(key);
            return false;
        }
    }

    private void Evict(ForkTemplate template)
    {
        lock (_lock)
        {
            if (_templates.TryGetValue(template.Key, out var current) && current.IsCompletedSuccessfully && current.Result == template)
            {
                _templates.Remove(template.Key);
            }
        }

        _ = template.DisposeAsync().AsTask();
    }

    // The template's id names its container and cgroup: the instance prefix (so that clean-up finds it), then a hash.
    private string TemplateId(SandboxSpec spec)
    {
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(spec.TemplateKey!)))[..10];
        return $"{_options.InstancePrefix}t{hash}{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(2))}";
    }

    private async Task ReapLoopAsync()
    {
        var period = TimeSpan.FromTicks(Math.Clamp(_options.KeepAlive.Ticks / 4, TimeSpan.FromSeconds(1).Ticks, TimeSpan.FromSeconds(30).Ticks));
        while (!_stopping.IsCancellationRequested)
        {
            await Task.Delay(period, _stopping.Token);
            var idle = new List<ForkTemplate>();
            lock (_lock)
            {
                foreach (var (key, task) in _templates.ToArray())
                {
                    if (task.IsCompletedSuccessfully && task.Result is var t
                        && (!t.Alive || (t.LiveInstances == 0 && (_released.Contains(key) || DateTimeOffset.UtcNow - t.LastUsed > _options.KeepAlive))))
                    {
                        _templates.Remove(key);
                        _released.Remove(key);
                        idle.Add(t);
                    }
                }
            }

            foreach (var t in idle)
            {
                await t.DisposeAsync();
            }
        }
    }
}
