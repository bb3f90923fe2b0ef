// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Functions;
using Nexus.Store;

namespace Nexus.Node;

/// <summary>The node's per-function store keys: issued on deploy, checked against the function's grants, removed with it.</summary>
public sealed partial class NexusNode
{
    // Each function gets its own store key whose every request is checked against the function's live grants: here,
    // or, for a remote `nexus store serve`, by that store with the grants of this revision (sent again on every deploy).
    private async Task RegisterKeyAsync(DeployedFunction function, CancellationToken cancellationToken)
    {
        var name = function.Name;
        KeyPair? key;
        bool fresh;
        lock (_keysLock)
        {
            fresh = !_functionKeys.TryGetValue(name, out key);
            if (fresh)
            {
                key = KeyPair.Generate("NXF");
                _functionKeys[name] = key;
                _functionsByKey[key.AccessKeyId] = name;
            }
        }

        if (fresh)
        {
            _storeCredentials.Add(new StoreCredential(key!.AccessKeyId, key.SecretAccessKey, scope => Authorize(name, scope)));
            _serviceKeys.Add(new StoreCredential(key.AccessKeyId, key.SecretAccessKey));
        }

        if (_remoteKeys is not null)
        {
            await _remoteKeys.PutCredentialAsync(key!.AccessKeyId, key.SecretAccessKey, FunctionGrants.Of(function.Manifest), cancellationToken);
        }
    }

    private void UnregisterKey(string name)
    {
        KeyPair? key;
        lock (_keysLock)
        {
            if (!_functionKeys.Remove(name, out key))
            {
                return;
            }

            _functionsByKey.Remove(key.AccessKeyId);
        }

        _storeCredentials.Remove(key.AccessKeyId);
        _serviceKeys.Remove(key.AccessKeyId);
        if (_remoteKeys is { } remote)
        {
            _ = remote.DeleteCredentialAsync(key.AccessKeyId, CancellationToken.None).ContinueWith(
                t => _logs.Write(name, "node", null, "could not remove the function's key from the store: " + t.Exception!.InnerException!.Message),
                CancellationToken.None,
                TaskContinuationOptions.OnlyOnFaulted,
                TaskScheduler.Default);
        }
    }

    // A store that cannot take scoped keys (any S3 service but `nexus store serve`) only knows the node's key.
    private (string AccessKeyId, string SecretAccessKey) KeyOf(string name)
    {
        if (_options.S3Endpoint is not null && _remoteKeys is null)
        {
            return (StoreKey.AccessKeyId, StoreKey.SecretAccessKey);
        }

        lock (_keysLock)
        {
            var key = _functionKeys[name];
            return (key.AccessKeyId, key.SecretAccessKey);
        }
    }

    /// <summary>The deployed manifest of the function whose key this is (the signing proxy's grants).</summary>
    private FunctionManifest? ManifestOfKey(string accessKeyId)
    {
        string? name;
        lock (_keysLock)
        {
            _functionsByKey.TryGetValue(accessKeyId, out name);
        }

        return name is not null && _registry.TryGet(name, out var function) ? function.Manifest : null;
    }

    private bool Authorize(string name, StoreRequestScope scope)
    {
        if (!_registry.TryGet(name, out var function) || scope.Bucket is null)
        {
            return false;
        }

        return FunctionGrants.Allows(function.Manifest, scope.Bucket, scope.Key, scope.IsWrite);
    }
}
