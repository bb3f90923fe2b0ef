// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Nodes;
using Nexus.Backend;
using Nexus.Backend.Services;
using Nexus.Functions;
using Nexus.Node;
using Nexus.Store;

namespace Nexus.Frontend.Tests;

/// <summary>
/// One embedded store with the difftest buckets, and the two ways to run runtime/frontend/difftests/difftest.py
/// against it: baseline (Debian's real boto3 over HTTP, with a function key limited to the function's grants)
/// and nexus (the stand-in boto3 over the Nexus channel to the real backend, which holds the node's key).
/// </summary>
internal sealed class DiffEnvironment : IAsyncDisposable
{
    public const string Bucket = "nexus-difftest";
    public const string DeniedBucket = "nexus-difftest-denied";
    public const string MissingBucket = "nexus-difftest-missing";

    /// <summary>Empty between cases: a case that writes there deletes what it wrote.</summary>
    public const string EmptyBucket = "nexus-difftest-empty";

    private const string AdminKey = "NEXUSDIFFADMIN000001";
    private const string AdminSecret = "difftest-admin-secret-0000000000000000000";
    private const string FunctionKey = "NEXUSDIFFFUNCTION001";
    private const string FunctionSecret = "difftest-function-secret-00000000000000000";

    private readonly DirectoryInfo _root;
    private readonly S3StoreServer _store;

    private DiffEnvironment(DirectoryInfo root, S3StoreServer store)
    {
        _root = root;
        _store = store;
        Endpoint = store.BoundAddresses[0].ToString().TrimEnd('/');
        WorkDirectory = Path.Combine(root.FullName, "work");
        Directory.CreateDirectory(WorkDirectory);
    }

    public string Endpoint { get; }

    /// <summary>Scratch folder of the script; the same path in both modes, so messages naming files compare equal.</summary>
    public string WorkDirectory { get; }

    public static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "difftest.py");

    /// <summary>The grants of the difftest "function": the denied bucket is deliberately not among them.</summary>
    public static FunctionManifest Manifest => new()
    {
        Name = "difftest",
        Handler = "difftest.main",
        Io = IoMode.Nexus,
        Storage =
        [
            new StorageGrant(Bucket, "", StorageAccess.ReadWrite),
            new StorageGrant(MissingBucket, "", StorageAccess.ReadWrite),
            new StorageGrant(EmptyBucket, "", StorageAccess.ReadWrite),
        ],
    };

    /// <param name="firstByteLatency">How long the store waits before each answer's first byte (none by default).</param>
    public static async Task<DiffEnvironment> StartAsync(TimeSpan firstByteLatency = default)
    {
        var root = Directory.CreateTempSubdirectory("nexus-difftest-");
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(AdminKey, AdminSecret));
        // The baseline function key gets the same grants the backend enforces in nexus mode, by the node's own rules.
        credentials.Add(new StoreCredential(FunctionKey, FunctionSecret,
            scope => scope.Bucket is { } bucket && FunctionGrants.Allows(Manifest, bucket, scope.Key, scope.IsWrite)));
        var store = await S3StoreServer.StartAsync(
            new StoreOptions { DataDirectory = Path.Combine(root.FullName, "store"), Urls = ["http://127.0.0.1:0"], FirstByteLatency = firstByteLatency },
            credentials).ConfigureAwait(false);
        var environment = new DiffEnvironment(root, store);
        try
        {
            var env = environment.ScriptEnvironment();
            env["AWS_ACCESS_KEY_ID"] = AdminKey;
            env["AWS_SECRET_ACCESS_KEY"] = AdminSecret;
            env["NEXUS_S3_ENDPOINT"] = environment.Endpoint;
            var (exitCode, stdout, stderr) = await PythonProcess.RunAsync([Script, "setup"], env, root.FullName).ConfigureAwait(false);
            if (exitCode != 0)
            {
                throw new InvalidOperationException($"difftest setup failed (exit {exitCode}):\n{stdout}\n{stderr}");
            }

            return environment;
        }
        catch
        {
            await environment.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>Real boto3 (Debian's, PYTHONPATH without the frontend) over HTTP to the store.</summary>
    public async Task<JsonObject> RunBaselineAsync(int largeMib)
    {
        var (exitCode, stdout, stderr) = await RunBaselineScriptAsync(ScriptArgs(largeMib), new Dictionary<string, string>()).ConfigureAwait(false);
        return ParseRecord("baseline", exitCode, stdout, stderr);
    }

    /// <summary>Any script with real boto3 and the function's limited key, <paramref name="extra"/> added to its environment.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> RunBaselineScriptAsync(IReadOnlyList<string> args, IReadOnlyDictionary<string, string> extra)
    {
        var env = ScriptEnvironment();
        env["AWS_ACCESS_KEY_ID"] = FunctionKey;
        env["AWS_SECRET_ACCESS_KEY"] = FunctionSecret;
        env["NEXUS_S3_ENDPOINT"] = Endpoint;
        env["NEXUS_IO"] = "baseline";
        foreach (var (name, value) in extra)
        {
            env[name] = value;
        }

        return PythonProcess.RunAsync(args, env, _root.FullName);
    }

    /// <summary>The stand-in over a real channel (memfd + eventfds as fds 3, 4, 5) served by the real backend.</summary>
    public async Task<JsonObject> RunNexusAsync(int largeMib)
    {
        var (exitCode, stdout, stderr) = await RunNexusScriptAsync(Manifest, ScriptArgs(largeMib), new Dictionary<string, string>(), new Dictionary<string, ServiceEndpoint>()).ConfigureAwait(false);
        return ParseRecord("nexus", exitCode, stdout, stderr);
    }

    /// <summary>Any script with the stand-in over a channel served under <paramref name="manifest"/>, the backend holding the node's key.</summary>
    public Task<(int ExitCode, string Stdout, string Stderr)> RunNexusScriptAsync(
        FunctionManifest manifest, IReadOnlyList<string> args, IReadOnlyDictionary<string, string> extra, IReadOnlyDictionary<string, ServiceEndpoint> services)
    {
        // With the write-back spool, as a node runs nexus mode (writeback: async is the default): reads right after a put
        // may be answered from the spool, and must look the same.
        var options = new NexusBackendOptions
        {
            ServiceUrl = Endpoint,
            AccessKey = AdminKey,
            SecretKey = AdminSecret,
            Services = services,
            SpoolDirectory = Path.Combine(_root.FullName, "spool-" + Guid.NewGuid().ToString("N")),
        };
        var env = ScriptEnvironment();
        foreach (var (name, value) in extra)
        {
            env[name] = value;
        }

        return ChannelRun.RunAsync(options, manifest, args, env, _root.FullName);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync().ConfigureAwait(false);
        try
        {
            _root.Delete(recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp folder is harmless; the test result is what matters.
        }
    }

    private static List<string> ScriptArgs(int largeMib) =>
        largeMib > 0 ? [Script, "run", "--large-mib", largeMib.ToString(System.Globalization.CultureInfo.InvariantCulture)] : [Script, "run"];

    private static JsonObject ParseRecord(string mode, int exitCode, string stdout, string stderr)
    {
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"difftest {mode} run failed (exit {exitCode}):\n{stdout}\n{stderr}");
        }

        return JsonNode.Parse(stdout) as JsonObject
            ?? throw new InvalidOperationException($"difftest {mode} run printed no JSON object:\n{stdout}\n{stderr}");
    }

    private Dictionary<string, string> ScriptEnvironment()
    {
        var env = PythonProcess.BaseEnvironment();
        env["DIFFTEST_BUCKET"] = Bucket;
        env["DIFFTEST_DENIED_BUCKET"] = DeniedBucket;
        env["DIFFTEST_MISSING_BUCKET"] = MissingBucket;
        env["DIFFTEST_EMPTY_BUCKET"] = EmptyBucket;
        env["DIFFTEST_WORKDIR"] = WorkDirectory;
        return env;
    }
}
