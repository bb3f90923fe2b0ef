// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime;
using Amazon.Runtime.Endpoints;
using Amazon.S3;
using Amazon.S3.Endpoints;
using Amazon.S3.Model;

namespace Nexus.Backend.Tests;

public sealed class PathStyleEndpointTests
{
    private static readonly IEndpointProvider s_rules = SdkEndpointRules.Rules;

    public static TheoryData<string, string> Endpoints => new()
    {
        { "http://10.78.0.2:9780", "us-east-1" },
        { "http://127.0.0.1:9000/", "eu-west-3" },
        { "https://S3.Example.COM", "us-east-1" },
        { "https://s3.example.com:443/store/v1", "local" },
        { "http://[::1]:9000/prefix/", "us-east-1" },
        { "http://localhost:9000/a%20b", "us-east-1" },
        { "http://store.local:9000/?x=1", "us-east-1" },
        { "ftp://store.local", "us-east-1" },
        { "http://store.local:9000", "aws-global" },
    };

    [Theory]
    [MemberData(nameof(Endpoints))]
    public void Answers_as_the_sdks_rules_do_for_every_bucket_and_setting(string endpoint, string region)
    {
        var provider = new PathStyleEndpointProvider(endpoint, region, s_rules);
        string?[] buckets = ["nexus-examples", "a.b.c", "UPPER_case", "with space", "ünïcode", "x", "192.168.1.1", "b--x-s3",
            "mybucket--usw2-az1--x-s3", "arn:aws:s3:us-east-1:123456789012:accesspoint/ap", "arn:bad", "a--op-s3", null, ""];
        foreach (var bucket in buckets)
        {
            foreach (var pathStyle in new[] { true, false })
            {
                foreach (var (fips, dualStack, accelerate) in new[] { (false, false, false), (true, false, false), (false, true, false), (false, false, true) })
                {
                    var p = SdkEndpointRules.Parameters(bucket, endpoint, region, pathStyle);
                    p.UseFIPS = fips;
                    p.UseDualStack = dualStack;
                    p.Accelerate = accelerate;
                    AssertSame(Resolve(s_rules, p), Resolve(provider, p), $"{bucket} at {endpoint} ({region}), path style {pathStyle}, fips {fips}, dual-stack {dualStack}, accelerate {accelerate}");
                }
            }
        }

        // Another endpoint or region than the configured one is the rules' business.
        AssertSame(Resolve(s_rules, SdkEndpointRules.Parameters("b", "http://other:1", region, true)), Resolve(provider, SdkEndpointRules.Parameters("b", "http://other:1", region, true)), "other endpoint");
        AssertSame(Resolve(s_rules, SdkEndpointRules.Parameters("b", endpoint, "ap-south-1", true)), Resolve(provider, SdkEndpointRules.Parameters("b", endpoint, "ap-south-1", true)), "other region");
    }

    [Theory]
    [InlineData("http://10.78.0.2:9780", "us-east-1")]
    [InlineData("https://store.example.com/base", "eu-west-3")]
    public async Task The_backends_requests_never_run_the_rules(string endpoint, string region)
    {
        await using var backend = new NexusBackend(new NexusBackendOptions { ServiceUrl = endpoint, Region = region, AccessKey = "AKIDEXAMPLE", SecretKey = "secret" });
        var config = (AmazonS3Config)backend.S3.Config;
        var installed = Assert.IsType<PathStyleEndpointProvider>(config.EndpointProvider);
        Assert.True(installed.Applies);

        // The same client, its provider answering from a counter over the rules: presigning runs the request pipeline's
        // endpoint resolution (the parameters the SDK builds from the backend's config) without a network.
        var counting = new SdkEndpointRules.Counting();
        var signedByRules = await PresignAllAsync(backend.S3, config, s_rules);
        var signedHere = await PresignAllAsync(backend.S3, config, new PathStyleEndpointProvider(config.ServiceURL, backend.Options.Region, counting));
        Assert.Equal(0, counting.Calls);
        Assert.Equal(signedByRules, signedHere);
        Assert.Equal(signedByRules, await PresignAllAsync(backend.S3, config, installed));
    }

    private static readonly System.Text.RegularExpressions.Regex s_timeBound = new("X-Amz-(Date|Signature|Expires)=[^&]*&?", System.Text.RegularExpressions.RegexOptions.CultureInvariant);

    private static async Task<string[]> PresignAllAsync(IAmazonS3 s3, AmazonS3Config config, IEndpointProvider provider)
    {
        config.EndpointProvider = provider;
        var expires = DateTime.UtcNow.Date.AddDays(2);
        var signed = new List<string>();
        foreach (var (bucket, key, verb) in new[] { ("nexus-examples", "fn/in/photo.jpg", HttpVerb.GET), ("a.b", "k ey/ü", HttpVerb.PUT), ("nexus-examples", "x", HttpVerb.HEAD) })
        {
            // As Presigning does: the URL's scheme is the store's.
            var protocol = config.ServiceURL.StartsWith("http:", StringComparison.Ordinal) ? Protocol.HTTP : Protocol.HTTPS;
            var request = new GetPreSignedUrlRequest { BucketName = bucket, Key = key, Verb = verb, Expires = expires, Protocol = protocol };

            var url = await s3.GetPreSignedURLAsync(request);
            // SigV4 signs the time of signing, and X-Amz-Expires is the seconds from then to Expires: those and the
            // signature are left out (two signings a second apart differed in all three: a flaky failure, 2026-12-07).
            signed.Add(s_timeBound.Replace(url, string.Empty));
        }

        return [.. signed];
    }

    private static (string? Url, string? AuthSchemes, string? Headers, string? Error) Resolve(IEndpointProvider provider, S3EndpointParameters p)
    {
        try
        {
            var endpoint = provider.ResolveEndpoint(p);
            return (endpoint.URL, Describe(endpoint.Attributes), Headers(endpoint), null);
        }
        catch (AmazonClientException e)
        {
            return (null, null, null, e.Message);
        }
    }

    // The attributes' values the request pipeline reads (its signer and backend choice), lists and bags spelled out.
    private static string Describe(object? value) => value switch
    {
        null => "null",
        string or bool => value.ToString()!,
        System.Collections.IList list => "[" + string.Join(",", list.Cast<object?>().Select(Describe)) + "]",
        IPropertyBag bag =>
            "{" + string.Join(",", new[] { "authSchemes", "backend", "name", "signingName", "signingRegion", "signingRegionSet", "disableDoubleEncoding" }.Select(k => k + ":" + Describe(bag[k]))) + "}",
        _ => value.GetType().Name + ":" + value,
    };

    private static string? Headers(Endpoint endpoint) =>
        endpoint.Headers is null ? null : string.Join(";", endpoint.Headers.Select(h => h.Key + "=" + string.Join(",", h.Value)));

    private static void AssertSame((string? Url, string? AuthSchemes, string? Headers, string? Error) expected, (string? Url, string? AuthSchemes, string? Headers, string? Error) actual, string what)
    {
        Assert.True(expected == actual, $"{what}: the rules answered {expected}, the provider {actual}");
    }
}
