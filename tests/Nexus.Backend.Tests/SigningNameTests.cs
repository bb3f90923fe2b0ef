// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Services;

namespace Nexus.Backend.Tests;

/// <summary>The name a service's calls are signed with: the one node.json gives, else the service's own.</summary>
public sealed class SigningNameTests
{
    [Theory]
    [InlineData("stepfunctions", "states")]
    [InlineData("cloudwatch", "monitoring")]
    [InlineData("cognito-idp", "cognito-idp")]
    [InlineData("sesv2", "ses")]
    [InlineData("iot-data", "iotdata")]
    [InlineData("dynamodb", "dynamodb")]
    [InlineData("secretsmanager", "secretsmanager")]
    public void A_service_is_signed_with_its_own_name_by_default(string service, string signingName) =>
        Assert.Equal(signingName, new ServiceEndpoint { Url = "http://127.0.0.1:9" }.SigningNameOf(service));

    [Fact]
    public void The_configured_name_wins() =>
        Assert.Equal("custom", new ServiceEndpoint { Url = "http://127.0.0.1:9", SigningName = "custom" }.SigningNameOf("stepfunctions"));
}
