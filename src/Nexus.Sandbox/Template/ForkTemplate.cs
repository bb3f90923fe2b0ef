// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Nexus.Interop;
using Nexus.Sandbox.Oci;

namespace Nexus.Sandbox.Template;

/// <summary>
/// One template sandbox: a container started by the inner driver that loaded the runtime and the handler once and
/// forks instances on request (runtime/nexus_runtime/template.py has the protocol). Everything it says is validated:
/// it runs function code, so it is as untrusted as any sandbox.
/// </summary>
internal sealed class ForkTemplate : IAsyncDisposable
{
    private const int MaxMessage = 64 * 1024;

    private readonly SafeFd _control;
    private readonly TemplateDriverOptions _options;
    private readonly CgroupV1 _cgroup;
    private readonly ConcurrentDictionary<long, TaskCompletionSource<int>> _forks = new();
    private readonly ConcurrentDictionary<int, ForkedInstance> _children = new();
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly Thread _reader;
    private InstanceRoots? _roots;
    private long _nextId;
    private int _disposed;
    private volatile bool _canEnterRoots;

    private ForkTemplate(string key, ISandboxInstance sandbox, SafeFd control, TemplateDriverOptions options)
    {
        Key = key;
        Sandbox = sandbox;
        _control = control;
        _options = options;
        _cgroup = new CgroupV1(options.CgroupRoot, $"{options.CgroupParent}/{sandbox.InstanceId}");
        LastUsed = DateTimeOffset.UtcNow;
        _reader = new Thread(ReadLoop) { IsBackground = true, Name = "nexus-template-" + sandbox.InstanceId };
        _reader.Start();
    }

    public string Key { get; }

    public ISandboxInstance Sandbox { get; }

    public DateTimeOffset LastUsed { get; private set; }

    public int LiveInstances => _children.Count;

    /// <summary>True while the template can fork (it has not died, failed or been stopped).</summary>
    public bool Alive => Volatile.Read(ref _disposed) == 0 && !Sandbox.Exited.IsCompleted && _ready.Task.IsCompletedSuccessfully;

    /// <summary>
    /// Starts a template from <paramref name="spec"/> through <paramref name="inner"/> and waits until it has loaded the
    /// handler. Throws when it cannot (an init error included: the caller then starts a plain instance, which reports it).
    /// </summary>
    public static async Task<ForkTemplate> StartAsync(ISandboxDriver inner, SandboxSpec spec, string templateId, TemplateDriverOptions options, CancellationToken cancellationToken)
    {
        var (host, sandboxEnd) = UnixSeqPacket.CreatePair();
        ISandboxInstance? sandbox = null;
        try
        {
            var environment = spec.Environment.Where(e => !spec.InstanceVariables.Contains(e.Key)).ToDictionary(StringComparer.Ordinal);
            environment["NEXUS_TEMPLATE_FD"] = "3";
            var log = options.Log;
            var importing = new TaskCompletionSource();
            var cold = spec.OnOutput;
            sandbox = await inner.StartAsync(
                spec with
                {
                    InstanceId = templateId,
                    Command = [.. spec.Command, "--template"],
                    Environment = environment,
                    PassedFds = [sandboxEnd],
                    TemplateKey = null,
                    ForksInstanceRoots = options.PrivateTmp,
                    InstanceVariables = new HashSet<string>(),
                    OnOutput = (line, isError) =>
                    {
                        // What the function prints while its module loads is its cold start's output, as on Lambda:
                        // the function's log gets it with the invocation that started the template. Later lines are
                        // the template's own business.
                        if (!importing.Task.IsCompleted)
                        {
                            cold?.Invoke(line, isError);
                        }

                        log?.Invoke($"template {templateId}: {line}");
                    },
                },
                cancellationToken);
            sandboxEnd.Dispose();
            var template = new ForkTemplate(spec.TemplateKey!, sandbox, host, options);
            try
            {
                try
                {
                    await template._ready.Task.WaitAsync(options.ReadyTimeout, cancellationToken);
                }
                finally
                {
                    // Everything the module printed was written before the template said ready: take it in now, while
                    // it still counts as the cold start's.
                    sandbox.DrainOutput(TimeSpan.FromMilliseconds(50));
                    importing.TrySetResult();
                }

                if (options.PrivateTmp)
                {
                    if (!template._canEnterRoots)
                    {
                        throw new InvalidOperationException($"template {templateId} cannot give its instances a /tmp of their own: it holds no CAP_SYS_CHROOT");
                    }

                    template._roots = InstanceRoots.Open(sandbox.Pid, spec.TmpMb);
                }

                return template;
            }
            catch
            {
                await template.DisposeAsync();
                throw;
            }
        }
        catch
        {
            sandboxEnd.Dispose();
            if (sandbox is not null && host.IsClosed)
            {
                // The template owned it and is gone with it.
            }
            else if (sandbox is not null)
            {
                host.Dispose();
                await sandbox.DisposeAsync();
            }
            else
            {
                host.Dispose();
            }

            throw;
        }
    }

    /// <summary>Forks one instance with <paramref name="spec"/>'s per-instance variables, channel and output.</summary>
    public async Task<ForkedInstance> ForkAsync(SandboxSpec spec, CancellationToken cancellationToken)
    {
        if (spec.PassedFds.Count != 3)
        {
            throw new InvalidOperationException($"a forked instance takes exactly the channel's 3 descriptors, got {spec.PassedFds.Count}");
        }

        LastUsed = DateTimeOffset.UtcNow;
        var id = Interlocked.Increment(ref _nextId);
        var reply = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        _forks[id] = reply;
        var (stdoutHost, stdoutChild) = ChildProcess.CreateSocketPair();
        var (stderrHost, stderrChild) = ChildProcess.CreateSocketPair();
        var cgroup = new InstanceCgroup(_options, spec.InstanceId);
        ForkedInstance? instance = null;
        string? root = null;
        try
        {
            root = _roots is null ? null : await _roots.TakeAsync();
            var env = new JsonObject();
            foreach (var name in spec.InstanceVariables)
            {
                if (spec.Environment.TryGetValue(name, out var value))
                {
                    env[name] = value;
                }
            }

            var message = JsonSerializer.SerializeToUtf8Bytes(new JsonObject { ["id"] = id, ["env"] = env, ["root"] = root });
            await _sendLock.WaitAsync(cancellationToken);
            try
            {
                UnixSeqPacket.Send(_control, message, [.. spec.PassedFds, stdoutChild, stderrChild]);
            }
            finally
            {
                _sendLock.Release();
            }

            stdoutChild.Dispose();
            stderrChild.Dispose();
            var pumps = new[] { new OutputPump(stdoutHost, spec.OnOutput, isError: false), new OutputPump(stderrHost, spec.OnOutput, isError: true) };
            var namespacePid = await reply.Task.WaitAsync(TimeSpan.FromSeconds(10), cancellationToken);
            instance = new ForkedInstance(spec.InstanceId, namespacePid, cgroup, pumps, this, root);
            _children[namespacePid] = instance;

            // The child is in the template's cgroup until moved; it is found there by the pid it has in its namespace.
            var hostPid = FindHostPid(namespacePid) ?? throw new InvalidOperationException($"forked process {namespacePid} of template {Sandbox.InstanceId} vanished before it could be placed");
            cgroup.Create(spec.MemoryMb, spec.Cpus);
            instance.GuardMemory();
            cgroup.Move(hostPid);
            instance.Bind(hostPid);
            return instance;
        }
        catch
        {
            _forks.TryRemove(id, out _);
            stdoutChild.Dispose();
            stderrChild.Dispose();
            if (instance is not null)
            {
                await instance.DisposeAsync();
            }
            else
            {
                stdoutHost.Dispose();
                stderrHost.Dispose();
                await cgroup.RemoveAsync();
                if (root is not null)
                {
                    _roots?.Release(root);
                }
            }

            throw;
        }
    }

    /// <summary>Called by an instance once it is gone: its root is taken apart.</summary>
    public void Forget(ForkedInstance instance)
    {
        _children.TryRemove(new KeyValuePair<int, ForkedInstance>(instance.NamespacePid, instance));
        if (instance.Root is not null)
        {
            _roots?.Release(instance.Root);
        }

        LastUsed = DateTimeOffset.UtcNow;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        // Stopping the template's container kills its whole pid namespace, so every forked instance with it.
        await Sandbox.DisposeAsync();
        _roots?.Dispose();
        _control.Dispose();
        _ready.TrySetException(new InvalidOperationException("the template was stopped"));
        foreach (var child in _children.Values)
        {
            child.OnExit(null, 9);
        }

        _sendLock.Dispose();
    }

    private int? FindHostPid(int namespacePid)
    {
        foreach (var pid in _cgroup.Processes())
        {
            try
            {
                foreach (var line in File.ReadLines($"/proc/{pid}/status"))
                {
                    if (line.StartsWith("NSpid:", StringComparison.Ordinal))
                    {
                        var ids = line[6..].Split('\t', ' ').Where(s => s.Length > 0).ToArray();
                        if (ids.Length >= 2 && ids[^1] == namespacePid.ToString(CultureInfo.InvariantCulture))
                        {
                            return pid;
                        }

                        break;
                    }
                }
            }
            catch (IOException)
            {
                // That process ended meanwhile.
            }
        }

        return null;
    }

    private void ReadLoop()
    {
        var buffer = new byte[MaxMessage];
        try
        {
            while (true)
            {
                var n = UnixSeqPacket.Receive(_control, buffer);
                if (n == 0)
                {
                    break;
                }

                Handle(buffer.AsSpan(0, n));
            }
        }
        catch (Exception e) when (e is UnixException or ObjectDisposedException)
        {
            // The socket was closed: the template is being stopped.
        }

        // The template is gone (or stopped): nothing more will be forked, and its instances died with its namespace.
        _ready.TrySetException(new InvalidOperationException($"template {Sandbox.InstanceId} ended before it was ready"));
        foreach (var fork in _forks.Values)
        {
            fork.TrySetException(new InvalidOperationException($"template {Sandbox.InstanceId} ended"));
        }

        foreach (var child in _children.Values)
        {
            child.OnExit(null, 9);
        }
    }

    private void Handle(ReadOnlySpan<byte> message)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(message);
        }
        catch (JsonException)
        {
            _options.Log?.Invoke($"template {Sandbox.InstanceId}: ignoring a control message that is not JSON");
            return;
        }

        if (node is not JsonObject o)
        {
            return;
        }

        if (o["ready"] is not null)
        {
            _canEnterRoots = o["roots"] is JsonValue roots && roots.TryGetValue(out bool can) && can;
            _ready.TrySetResult();
        }
        else if (o["init_error"] is { } error)
        {
            _ready.TrySetException(new HandlerLoadException($"the handler failed to load in template {Sandbox.InstanceId}: {error.ToJsonString()}"));
        }
        else if (TryInt(o["id"], out var id) && TryInt(o["pid"], out var pid) && pid > 1 && _forks.TryRemove(id, out var fork))
        {
            fork.TrySetResult((int)pid);
        }
        else if (TryInt(o["exit"], out var exited) && _children.TryGetValue((int)exited, out var child))
        {
            TryInt(o["code"], out var code);
            TryInt(o["signal"], out var signal);
            child.OnExit(o["code"] is null ? null : (int)code, o["signal"] is null ? null : (int)signal);
        }
    }

    private static bool TryInt(JsonNode? node, out long value)
    {
        value = 0;
        return node is JsonValue v && v.TryGetValue(out value) && value is >= 0 and <= int.MaxValue;
    }
}

/// <summary>The cgroup of one forked instance, made by the node (runc makes it for containers).</summary>
internal sealed class InstanceCgroup(TemplateDriverOptions options, string instanceId)
{
    private readonly string _relative = $"{options.CgroupParent}/{instanceId}";

    public CgroupV1 Reader { get; } = new(options.CgroupRoot, $"{options.CgroupParent}/{instanceId}");

    public string MemoryDirectory => Path.Combine(options.CgroupRoot, "memory", _relative);

    private IEnumerable<string> Controllers => new[] { "memory", "cpu", "cpuacct", "pids" }.Select(c => Path.Combine(options.CgroupRoot, c, _relative)).Distinct();

    public void Create(int memoryMb, double cpus)
    {
        foreach (var dir in Controllers)
        {
            Directory.CreateDirectory(dir);
        }

        var memory = MemoryDirectory;
        var bytes = ((long)memoryMb << 20).ToString(CultureInfo.InvariantCulture);
        File.WriteAllText(Path.Combine(memory, "memory.limit_in_bytes"), bytes);
        if (File.Exists(Path.Combine(memory, "memory.memsw.limit_in_bytes")))
        {
            File.WriteAllText(Path.Combine(memory, "memory.memsw.limit_in_bytes"), bytes);
        }

        var cpu = Path.Combine(options.CgroupRoot, "cpu", _relative);
        File.WriteAllText(Path.Combine(cpu, "cpu.cfs_period_us"), options.CpuPeriodMicroseconds.ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(cpu, "cpu.cfs_quota_us"), ((long)(cpus * options.CpuPeriodMicroseconds)).ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(cpu, "cpu.shares"), CgroupV1.SharesFor(cpus).ToString(CultureInfo.InvariantCulture));
        File.WriteAllText(Path.Combine(options.CgroupRoot, "pids", _relative, "pids.max"), options.PidsLimit.ToString(CultureInfo.InvariantCulture));
    }

    public void Move(int hostPid)
    {
        var pid = hostPid.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Controllers)
        {
            File.WriteAllText(Path.Combine(dir, "cgroup.procs"), pid);
        }
    }

    public async Task RemoveAsync()
    {
        foreach (var problem in await OciSandboxDriver.RemoveCgroupsAsync(Controllers, killTasks: true))
        {
            options.Log?.Invoke(problem);
        }
    }
}
