// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Functions;

namespace Nexus.Node.Transports.RuntimeApi;

/// <summary>
/// Transports of baseline instances: the Runtime API over the veth (<paramref name="runtimeApi"/> is the host:port
/// runtimes call), real boto3 against <paramref name="s3Endpoint"/> with the function's own store key pair, and the
/// URL of each service endpoint a baseline sandbox can reach (<paramref name="services"/>, by botocore's name) as
/// NEXUS_&lt;SERVICE&gt;_ENDPOINT.
/// </summary>
public sealed class RuntimeApiTransportFactory(RuntimeApiRegistry registry, string runtimeApi, string s3Endpoint, Func<string, (string AccessKeyId, string SecretAccessKey)> keyOf, IReadOnlyDictionary<string, string>? services = null)
    : IInvocationTransportFactory
{
    public IoMode Mode => IoMode.Baseline;

    public Task<IInvocationTransport> CreateAsync(DeployedFunction function, string instanceId, CancellationToken cancellationToken)
    {
        var (accessKeyId, secret) = keyOf(function.Name);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["AWS_LAMBDA_RUNTIME_API"] = runtimeApi,
            ["AWS_ACCESS_KEY_ID"] = accessKeyId,
            ["AWS_SECRET_ACCESS_KEY"] = secret,
            ["NEXUS_S3_ENDPOINT"] = s3Endpoint,
        };
        foreach (var (service, url) in services ?? new Dictionary<string, string>())
        {
            environment[$"NEXUS_{service.ToUpperInvariant().Replace('-', '_')}_ENDPOINT"] = url;
        }

        return Task.FromResult<IInvocationTransport>(new RuntimeApiTransport(registry, function.Name, environment));
    }
}
