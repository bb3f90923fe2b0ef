// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Nexus.Node.Api;

/// <summary>
/// GetFunction's <c>Code.Location</c>: a URL of the node's API that downloads the function's code as a zip until it
/// expires ten minutes after it was made, as Lambda's presigned URL does. It names the function, its revision and the
/// expiry, with an HMAC of the three under a key derived from the node's admin secret: no one without that secret can
/// make one or change what it names, and one made before a restart stays good until it expires.
/// </summary>
public sealed class CodeLinks
{
    /// <summary>The API path the URLs are under, before the function's name and revision.</summary>
    public const string Prefix = "/nexus/code";

    /// <summary>How long a URL downloads the code: Lambda's presigned Location lasts 10 minutes.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);

    private readonly byte[] _key;
    private readonly TimeProvider _time;

    private CodeLinks(byte[] key, TimeProvider time)
    {
        _key = key;
        _time = time;
    }

    /// <summary>The links of the node whose admin secret is <paramref name="secret"/> (a key of its own: the secret itself signs nothing here).</summary>
    public static CodeLinks Of(string secret, TimeProvider? time = null) =>
        new(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), "nexus code location"u8), time ?? TimeProvider.System);

    /// <summary>The URL, on the API at <paramref name="apiBase"/> (scheme and authority), of <paramref name="function"/>'s code.</summary>
    public string Create(string apiBase, DeployedFunction function)
    {
        var expires = (_time.GetUtcNow() + Lifetime).ToUnixTimeSeconds();
        return string.Create(CultureInfo.InvariantCulture, $"{apiBase.TrimEnd('/')}{Prefix}/{Uri.EscapeDataString(function.Name)}/{Uri.EscapeDataString(function.Revision)}?Expires={expires}&Signature={Sign(function.Name, function.Revision, expires)}");
    }

    /// <summary>Null when the URL's parts are one this node made and it has not expired; else why it is refused.</summary>
    public string? Refusal(string name, string revision, string? expires, string? signature)
    {
        if (string.IsNullOrEmpty(expires) || string.IsNullOrEmpty(signature))
        {
            return "a code URL needs its Expires and Signature parameters, as GetFunction's Code.Location gives them";
        }

        if (!long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var expiresAt)
            || !CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(Sign(name, revision, expiresAt)), Encoding.ASCII.GetBytes(signature)))
        {
            return "the code URL's signature does not match what it names: it was altered, or not made by this node; call GetFunction for its Code.Location";
        }

        // Checked after the signature: the expiry is then the node's own.
        var expiry = DateTimeOffset.FromUnixTimeSeconds(expiresAt);
        return _time.GetUtcNow() >= expiry
            ? string.Create(CultureInfo.InvariantCulture, $"the code URL expired at {expiry:yyyy-MM-ddTHH:mm:ssZ} (GetFunction's Code.Location lasts {Lifetime.TotalMinutes:0} minutes); call GetFunction for a new one")
            : null;
    }

    // Each part on its own line: a name cannot hold a newline (Lambda's name pattern), so no two URLs sign the same text.
    private string Sign(string name, string revision, long expires) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{name}\n{revision}\n{expires}"))));
}
