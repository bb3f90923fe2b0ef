// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Amazon.Runtime;
using Amazon.S3;
using Nexus.Node;
using Nexus.Testing;

namespace Nexus.EndToEnd.Tests;

/// <summary>
/// A real node (embedded store, cached image, runc driver, real runtime) on free ports with a temp home, shared by
/// the tests of a class; the examples' inputs are seeded with Debian's boto3.
/// </summary>
public class NodeFixture : IAsyncLifetime
{
    public string Home { get; } = Directory.CreateTempSubdirectory("nexus-e2e-").FullName;

    public NexusNode Node { get; private set; } = null!;

    public HttpClient Http { get; private set; } = null!;

    public static string Examples => Path.Combine(HostRequirements.RepoRoot, "examples");

    public static NodeOptions Options(string home) => new()
    {
        Home = home,
        ApiUrl = "http://127.0.0.1:0",
        StoreUrl = "http://127.0.0.1:0",
        SandboxStoreUrl = "http://10.77.0.1:0",
        RuntimeApiUrl = "http://10.77.0.1:0",
        ServiceProxyUrl = "http://10.77.0.1:0",
        KeepAliveSeconds = 600,
    };

    /// <summary>The node's settings; a fixture that needs more of the node (services) adds them here.</summary>
    protected virtual Task<NodeOptions> OptionsAsync() => Task.FromResult(Options(Home));

    /// <summary>Why this fixture's node cannot start here (its tests skip for the same reason); null: it can.</summary>
    protected virtual string? Missing => HostRequirements.Missing(root: true, runc: true);

    public async Task InitializeAsync()
    {
        if (Missing is not null)
        {
            return;
        }

        Node = await NexusNode.StartAsync(await OptionsAsync());
        Http = new HttpClient { BaseAddress = Node.ApiAddress, Timeout = TimeSpan.FromMinutes(3) };
        Http.DefaultRequestHeaders.Add(KeyPair.ManagementTokenHeader, Node.AdminKey.ManagementToken());
        var seed = Process.Start(new ProcessStartInfo(HostRequirements.DebianPython)
        {
            ArgumentList = { Path.Combine(Examples, "seed_inputs.py"), "--endpoint", Node.StoreAddress.ToString().TrimEnd('/'), "--access-key", Node.AdminKey.AccessKeyId, "--secret-key", Node.AdminKey.SecretAccessKey },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        var errors = seed.StandardError.ReadToEndAsync();
        await seed.StandardOutput.ReadToEndAsync();
        await seed.WaitForExitAsync();
        if (seed.ExitCode != 0)
        {
            throw new InvalidOperationException("seed_inputs.py failed: " + await errors);
        }
    }

    public virtual async Task DisposeAsync()
    {
        Http?.Dispose();
        if (Node is not null)
        {
            await Node.DisposeAsync();
        }

        Directory.Delete(Home, recursive: true);
    }

    public static byte[] Zip(string folder)
    {
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Where(f => !f.Contains("__pycache__", StringComparison.Ordinal)))
            {
                zip.CreateEntryFromFile(file, Path.GetRelativePath(folder, file));
            }
        }

        return buffer.ToArray();
    }

    /// <summary>Deploys a function made of a manifest and a handler.py given as text.</summary>
    public Task<DeployedFunction> DeployAsync(string manifest, string handler) => DeployAsync(Node, manifest, handler);

    /// <summary>Deploys to <paramref name="node"/> a function made of a manifest and a handler.py given as text.</summary>
    public static async Task<DeployedFunction> DeployAsync(NexusNode node, string manifest, string handler)
    {
        var dir = Directory.CreateTempSubdirectory("nexus-fn-").FullName;
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, "function.yaml"), manifest);
            await File.WriteAllTextAsync(Path.Combine(dir, "handler.py"), handler);
            return await node.DeployAsync(new MemoryStream(Zip(dir)), CancellationToken.None);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    /// <summary>
    /// A function's log once it holds a line containing <paramref name="wanted"/> (or after a minute): the node writes it
    /// behind the invocation. Read again a moment later, for the lines written right after that one.
    /// </summary>
    public static async Task<string[]> ReadLogUntilAsync(string path, string wanted)
    {
        for (var waited = 0; waited < 600; waited++)
        {
            if (File.Exists(path) && (await File.ReadAllLinesAsync(path)).Any(l => l.Contains(wanted, StringComparison.Ordinal)))
            {
                break;
            }

            await Task.Delay(100);
        }

        await Task.Delay(200);
        return File.Exists(path) ? await File.ReadAllLinesAsync(path) : [];
    }

    /// <summary>
    /// The object an example's result names as its "output" is in the store, not empty, in the bucket its event named
    /// (waiting for write-back to upload it, at most a minute); returns its bytes.
    /// </summary>
    public async Task<byte[]> OutputObjectAsync(string resultJson, string eventJson)
    {
        using var result = JsonDocument.Parse(resultJson);
        using var input = JsonDocument.Parse(eventJson);
        var key = result.RootElement.GetProperty("output").GetString()!;
        var bucket = input.RootElement.TryGetProperty("Records", out var records)
            ? records[0].GetProperty("s3").GetProperty("bucket").GetProperty("name").GetString()!
            : "nexus-examples";
        using var s3 = new AmazonS3Client(new BasicAWSCredentials(Node.AdminKey.AccessKeyId, Node.AdminKey.SecretAccessKey), new AmazonS3Config
        {
            ServiceURL = Node.StoreAddress.ToString(),
            ForcePathStyle = true,
            AuthenticationRegion = "us-east-1",
        });
        var until = DateTime.UtcNow.AddMinutes(1);
        while (true)
        {
            try
            {
                using var response = await s3.GetObjectAsync(bucket, key);
                using var bytes = new MemoryStream();
                await response.ResponseStream.CopyToAsync(bytes);
                Assert.True(bytes.Length > 0, $"output {bucket}/{key} is empty");
                return bytes.ToArray();
            }
            catch (AmazonS3Exception e) when (e.ErrorCode == "NoSuchKey" && DateTime.UtcNow < until)
            {
                await Task.Delay(200);
            }
        }
    }

    public async Task<(HttpResponseMessage Response, string Body)> InvokeAsync(string name, string payload, string? logType = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/2015-03-31/functions/{name}/invocations")
        {
            Content = new StringContent(payload, Encoding.UTF8, new MediaTypeHeaderValue("application/json")),
        };
        if (logType is not null)
        {
            request.Headers.Add("X-Amz-Log-Type", logType);
        }

        foreach (var (header, value) in headers ?? new Dictionary<string, string>())
        {
            request.Headers.Add(header, value);
        }

        var response = await Http.SendAsync(request);
        return (response, await response.Content.ReadAsStringAsync());
    }
}
