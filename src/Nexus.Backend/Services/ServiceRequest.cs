// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Nexus.Backend.Storage;
using Nexus.Channel.Services;

namespace Nexus.Backend.Services;

/// <summary>
/// One generic-path request as the sandbox serialized it (botocore's unsigned HTTP request, over the channel or, from a
/// baseline sandbox, over HTTP to the node's signing proxy), every field checked: the sandbox is hostile, and what is
/// checked here is exactly what is signed and sent.
/// </summary>
public sealed record ServiceRequest(string Service, string Operation, string Method, string Path, string Query, IReadOnlyList<KeyValuePair<string, string>> Headers)
{
    public const int MaxPathAndQuery = 8192;
    public const int MaxHeaders = 64;
    public const int MaxHeaderValue = 8192;

    private static readonly string[] s_methods = ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH"];

    /// <summary>
    /// Headers the backend sets itself (host, length, signature, and the LastModified of a write-back upload, which the
    /// store takes from the node's key only) or that belong to one HTTP hop; the sandbox's values for them are dropped,
    /// never forwarded.
    /// </summary>
    private static readonly HashSet<string> s_dropped = new(StringComparer.OrdinalIgnoreCase)
    {
        "host", "content-length", "authorization", "x-amz-date", "x-amz-security-token", "x-amz-content-sha256",
        "connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "expect", "proxy-authorization",
        "proxy-connection", WriteBack.WriteBackQueue.LastModifiedHeader,
    };

    /// <summary>The value of header <paramref name="name"/> (case-insensitive), or null.</summary>
    public string? Header(string name) => Headers.FirstOrDefault(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value;

    /// <summary>A request serialized over the channel: {Service, Operation, Method, Path (with query), Headers}.</summary>
    internal static ServiceRequest Parse(JsonElement p) =>
        Create(
            ChannelJson.RequiredString(p, "Service"),
            ChannelJson.RequiredString(p, "Operation"),
            ChannelJson.RequiredString(p, "Method"),
            ChannelJson.RequiredString(p, "Path"),
            HeadersOf(p));

    /// <summary>
    /// Checks every field; <paramref name="pathAndQuery"/> is the request target as sent. Headers the backend sets itself
    /// (<c>Authorization</c>, <c>Host</c>, ...) are dropped. Throws <see cref="ChannelRequestException"/> (400) naming
    /// what is wrong.
    /// </summary>
    public static ServiceRequest Create(string service, string operation, string method, string pathAndQuery, IEnumerable<KeyValuePair<string, string>> headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (service.Length is < 1 or > 63 || !service.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-') || service[0] == '-')
        {
            throw ChannelRequestException.Invalid($"Service {StorageAuthorization.Quote(service)} is not a service name (a-z, 0-9, '-')");
        }

        if (operation.Length is < 1 or > 128 || !char.IsAsciiLetterUpper(operation[0]) || !operation.All(char.IsAsciiLetterOrDigit))
        {
            throw ChannelRequestException.Invalid($"Operation {StorageAuthorization.Quote(operation)} is not an operation name (an ASCII letter, then letters and digits)");
        }

        if (!s_methods.Contains(method, StringComparer.Ordinal))
        {
            throw ChannelRequestException.Invalid($"Method {StorageAuthorization.Quote(method)} is not one of {string.Join(", ", s_methods)}");
        }

        if (pathAndQuery.Length > MaxPathAndQuery || pathAndQuery.Length == 0 || pathAndQuery[0] != '/'
            || !pathAndQuery.All(c => c is > ' ' and < '\x7f' and not '#'))
        {
            throw ChannelRequestException.Invalid($"Path must start with '/' and hold at most {MaxPathAndQuery} printable ASCII characters without spaces or '#', got {StorageAuthorization.Quote(pathAndQuery)}");
        }

        var question = pathAndQuery.IndexOf('?', StringComparison.Ordinal);
        var path = question < 0 ? pathAndQuery : pathAndQuery[..question];
        var query = question < 0 ? "" : pathAndQuery[(question + 1)..];
        if (path.Split('/').Any(segment => segment is "." or ".."))
        {
            throw ChannelRequestException.Invalid($"Path {StorageAuthorization.Quote(path)} has a '.' or '..' segment");
        }

        return new ServiceRequest(service, operation, method, path, query, CheckHeaders(headers));
    }

    private static IEnumerable<KeyValuePair<string, string>> HeadersOf(JsonElement p)
    {
        if (!p.TryGetProperty("Headers", out var element) || element.ValueKind == JsonValueKind.Null)
        {
            return [];
        }

        if (element.ValueKind != JsonValueKind.Object)
        {
            throw ChannelRequestException.Invalid("Headers must be an object of header names to strings");
        }

        return element.EnumerateObject().Select(header => new KeyValuePair<string, string>(
            header.Name,
            header.Value.ValueKind == JsonValueKind.String ? header.Value.GetString()! : throw ChannelRequestException.Invalid($"header {StorageAuthorization.Quote(header.Name)} must be a string")));
    }

    private static List<KeyValuePair<string, string>> CheckHeaders(IEnumerable<KeyValuePair<string, string>> given)
    {
        var headers = new List<KeyValuePair<string, string>>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in given)
        {
            if (seen.Count == MaxHeaders)
            {
                throw ChannelRequestException.Invalid($"more than {MaxHeaders} headers");
            }

            if (name.Length is < 1 or > 256 || !name.All(IsTokenChar))
            {
                throw ChannelRequestException.Invalid($"header name {StorageAuthorization.Quote(name)} is not an HTTP token");
            }

            if (!seen.Add(name))
            {
                throw ChannelRequestException.Invalid($"header {StorageAuthorization.Quote(name)} is given twice");
            }

            if (value.Length > MaxHeaderValue || !value.All(c => c is '\t' or (>= ' ' and < '\x7f')))
            {
                throw ChannelRequestException.Invalid($"header {StorageAuthorization.Quote(name)} must be at most {MaxHeaderValue} printable ASCII characters (no CR, LF or NUL)");
            }

            if (!s_dropped.Contains(name))
            {
                headers.Add(new(name, value));
            }
        }

        return headers;
    }

    // RFC 9110's tchar.
    internal static bool IsTokenChar(char c) => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);
}
