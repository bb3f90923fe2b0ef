// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Amazon.Runtime.Endpoints;
using Amazon.S3;
using Amazon.S3.Endpoints;

namespace Nexus.Backend.Tests;

/// <summary>The AWS SDK's own S3 endpoint rules, what the backend's endpoint providers are compared with.</summary>
internal static class SdkEndpointRules
{
    public static readonly IEndpointProvider Rules = new AmazonS3Config().EndpointProvider;

    /// <summary>The parameters the SDK's S3 client passes for a request to <paramref name="bucket"/>, no FIPS, dual-stack or acceleration.</summary>
    public static S3EndpointParameters Parameters(string? bucket, string? endpoint, string region, bool pathStyle) => new()
    {
        Bucket = bucket,
        Region = region,
        Endpoint = endpoint,
        ForcePathStyle = pathStyle,
        UseFIPS = false,
        UseDualStack = false,
        Accelerate = false,
        UseGlobalEndpoint = false,
        DisableMultiRegionAccessPoints = false,
    };

    /// <summary>The SDK's rules, counting how often they are asked.</summary>
    public sealed class Counting : IEndpointProvider
    {
        public int Calls { get; private set; }

        public Endpoint ResolveEndpoint(EndpointParameters parameters)
        {
            Calls++;
            return Rules.ResolveEndpoint(parameters);
        }
    }
}
