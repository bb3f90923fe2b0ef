// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend;
using Nexus.Functions;
using Nexus.Node.Transports.RuntimeApi;
using Nexus.Store;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The node's signing proxy as the node runs it for one baseline function (every caller is its instance): baseline
/// mode's way to the services of <see cref="NexusBackendOptions.Services"/>, real boto3 signing with the function's key.
/// </summary>
internal sealed class SigningProxy(NexusBackend backend, ServiceProxy proxy) : IAsyncDisposable
{
    public const string FunctionKey = "NXFDDBTEST0000000001";
    public const string FunctionSecret = "function-secret-of-the-proxy-differential";

    public string Endpoint => proxy.Addresses[0].ToString().TrimEnd('/');

    public static async Task<SigningProxy> StartAsync(NexusBackendOptions options, FunctionManifest manifest)
    {
        var keys = new StoreCredentials();
        keys.Add(new StoreCredential(FunctionKey, FunctionSecret));
        var backend = new NexusBackend(options);
        var proxy = await ServiceProxy.StartAsync(
            new ServiceProxyOptions
            {
                Urls = ["http://127.0.0.1:0"],
                Backend = backend,
                FunctionKeys = keys,
                ManifestOfKey = key => key == FunctionKey ? manifest : null,
                FunctionAt = (_, _) => Task.FromResult<string?>(manifest.Name),
            },
            CancellationToken.None);
        return new SigningProxy(backend, proxy);
    }

    public async ValueTask DisposeAsync()
    {
        await proxy.DisposeAsync();
        await backend.DisposeAsync();
    }
}
