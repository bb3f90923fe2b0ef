// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;

namespace Nexus.Store;

/// <summary>
/// What one request touches, as given to <see cref="StoreCredential.Authorize"/>.
/// Key is null for bucket-level operations, except listings, which pass their prefix ("" for none)
/// so that a prefix grant can allow listing inside its prefix only.
/// </summary>
public sealed record StoreRequestScope(string? Bucket, string? Key, bool IsWrite);

/// <summary>A key pair the store accepts; <paramref name="Authorize"/> null means full access.</summary>
public sealed record StoreCredential(string AccessKeyId, string SecretAccessKey, Func<StoreRequestScope, bool>? Authorize = null);

/// <summary>The key pairs the store accepts; the node adds and removes them at run time.</summary>
public sealed class StoreCredentials
{
    private readonly ConcurrentDictionary<string, StoreCredential> _byAccessKey = new(StringComparer.Ordinal);

    /// <summary>Adds or replaces the credential with this access key id.</summary>
    public void Add(StoreCredential credential)
    {
        ArgumentNullException.ThrowIfNull(credential);
        if (string.IsNullOrEmpty(credential.AccessKeyId) || credential.AccessKeyId.AsSpan().ContainsAny('/', ' ', ','))
        {
            throw new ArgumentException("An access key id must be non-empty and hold no '/', ' ' or ','.", nameof(credential));
        }

        if (string.IsNullOrEmpty(credential.SecretAccessKey))
        {
            throw new ArgumentException("A secret access key must be non-empty.", nameof(credential));
        }

        _byAccessKey[credential.AccessKeyId] = credential;
    }

    public bool Remove(string accessKeyId) => _byAccessKey.TryRemove(accessKeyId, out _);

    public bool TryGet(string accessKeyId, out StoreCredential credential)
    {
        if (_byAccessKey.TryGetValue(accessKeyId, out var found))
        {
            credential = found;
            return true;
        }

        credential = null!;
        return false;
    }
}
