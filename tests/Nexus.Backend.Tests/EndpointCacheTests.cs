// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime.Endpoints;

namespace Nexus.Backend.Tests;

public sealed class EndpointCacheTests
{
    private static readonly IEndpointProvider s_sdk = SdkEndpointRules.Rules;

    [Theory]
    [InlineData("http://10.78.0.2:9000", true)]
    [InlineData(null, false)]
    public void The_sdks_provider_ignores_the_key_prefix_and_copy_source(string? endpoint, bool pathStyle)
    {
        // What the cache leaves out of its key must not change the SDK's answer (a later SDK whose rules read them
        // fails here, not in production).
        var plain = s_sdk.ResolveEndpoint(SdkEndpointRules.Parameters("nexus-examples", endpoint, "us-east-1", pathStyle));
        var scoped = SdkEndpointRules.Parameters("nexus-examples", endpoint, "us-east-1", pathStyle);
        scoped.Key = "fn/in/photo.jpg";
        scoped.Prefix = "fn/";
        scoped.CopySource = "other/x";
        var resolved = s_sdk.ResolveEndpoint(scoped);
        Assert.Equal(plain.URL, resolved.URL);
        Assert.Equal(plain.Attributes?["authSchemes"]?.ToString(), resolved.Attributes?["authSchemes"]?.ToString());
    }

    [Fact]
    public void One_resolution_per_bucket_and_settings()
    {
        var counting = new SdkEndpointRules.Counting();
        var cached = new CachedEndpointProvider(counting);
        var first = cached.ResolveEndpoint(SdkEndpointRules.Parameters("a", "http://10.78.0.2:9000", "us-east-1", true));
        var again = SdkEndpointRules.Parameters("a", "http://10.78.0.2:9000", "us-east-1", true);
        again.Key = "other/key";
        var second = cached.ResolveEndpoint(again);
        Assert.Equal(1, counting.Calls);
        Assert.Equal("http://10.78.0.2:9000/a", second.URL);

        // Each caller gets its own object: the SDK's pipeline changes the endpoint it is handed (a shared one broke
        // presigned URLs and CopyObject: OperationTests, MultipartAndPresignTests).
        Assert.NotSame(first, second);
        second.URL = "http://elsewhere/a";
        Assert.Equal("http://10.78.0.2:9000/a", cached.ResolveEndpoint(again).URL);

        Assert.Equal("http://10.78.0.2:9000/b", cached.ResolveEndpoint(SdkEndpointRules.Parameters("b", "http://10.78.0.2:9000", "us-east-1", true)).URL);
        var hosted = SdkEndpointRules.Parameters("a", "http://10.78.0.2:9000", "us-east-1", true);
        hosted.ForcePathStyle = false;
        cached.ResolveEndpoint(hosted);
        Assert.Equal(3, counting.Calls);
    }
}
