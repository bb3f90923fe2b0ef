// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime.Endpoints;
using Amazon.S3.Endpoints;
using static Amazon.Runtime.Internal.Endpoints.StandardLibrary.Fn;

namespace Nexus.Backend;

/// <summary>
/// The S3 client's endpoint for the one case the backend's client is configured for: path-style addressing of a plain
/// bucket at the node's configured endpoint. The SDK's rule-set provider (<c>AmazonS3EndpointProvider</c>) is one generated
/// method of ~100 KB of machine code; compiling it at the first storage request took ~15 MiB of the JIT's scratch memory,
/// which glibc then kept in the node's malloc arenas (docs/evaluation.md, "The node process's own memory"). For the
/// parameters this class takes, that rule set answers <c>{scheme}://{authority}{normalizedPath}{uri-encoded bucket}</c>
/// signed with SigV4 for service <c>s3</c> in the request's region; this class builds the same answer with the SDK's own
/// URL parsing and encoding functions, so the rules are never compiled or run. Everything else (virtual-hosted
/// addressing, another endpoint or region, FIPS, dual-stack, accelerate, ARN, S3 Express, outpost buckets, no bucket)
/// goes to the rules provider it is given. <c>PathStyleEndpointTests</c> compares both over buckets, endpoints and regions.
/// </summary>
internal sealed class PathStyleEndpointProvider : IEndpointProvider
{
    private readonly IEndpointProvider _rules;
    private readonly string _endpoint;
    private readonly string _region;
    private readonly string _base;
    private readonly Endpoint? _template;

    public PathStyleEndpointProvider(string endpoint, string region, IEndpointProvider rules)
    {
        _rules = rules;
        _endpoint = endpoint;
        _region = region;
        var refs = new Dictionary<string, object> { ["Region"] = region, ["url"] = ParseURL(endpoint) };
        if (refs["url"] is not null && region.Length > 0 && region != "aws-global")
        {
            _base = Interpolate("{url#scheme}://{url#authority}{url#normalizedPath}", refs);
            _template = new Endpoint(
                _base,
                InterpolateJson("""{"authSchemes":[{"disableDoubleEncoding":true,"name":"sigv4","signingName":"s3","signingRegion":"{Region}"}]}""", refs),
                InterpolateJson("", refs));
        }
        else
        {
            _base = "";
        }
    }

    /// <summary>Whether the configured endpoint and region are answered here at all (a parsable URL, a regional signing name).</summary>
    public bool Applies => _template is not null;

    public Endpoint ResolveEndpoint(EndpointParameters parameters)
    {
        if (_template is null || parameters is not S3EndpointParameters p || !IsPlainPathStyle(p))
        {
            return _rules.ResolveEndpoint(parameters);
        }

        // A fresh object each time: the request pipeline changes the endpoint it is handed (CachedEndpointProvider).
        return new Endpoint(_base + UriEncode(p.Bucket)) { Attributes = _template.Attributes, Headers = _template.Headers };
    }

    private bool IsPlainPathStyle(S3EndpointParameters p) =>
        p.ForcePathStyle == true
        && p.UseFIPS == false
        && p.UseDualStack == false
        && p.Accelerate == false
        && p.UseObjectLambdaEndpoint != true
        && p.UseS3ExpressControlEndpoint != true
        && string.Equals(p.Endpoint, _endpoint, StringComparison.Ordinal)
        && string.Equals(p.Region, _region, StringComparison.Ordinal)
        && IsPlainBucket(p.Bucket);

    // The rule set treats these buckets apart before its path-style rules: ARNs (access points, outposts, object lambda),
    // S3 Express directory buckets (suffix --x-s3) and outpost bucket aliases (suffix --op-s3).
    private static bool IsPlainBucket(string? bucket) =>
        !string.IsNullOrEmpty(bucket)
        && !bucket.StartsWith("arn:", StringComparison.Ordinal)
        && !bucket.EndsWith("--x-s3", StringComparison.Ordinal)
        && !bucket.EndsWith("--op-s3", StringComparison.Ordinal);
}
