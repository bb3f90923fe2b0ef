// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Services;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Tests;

/// <summary>
/// A function's Lambda Invoke (the one REST call the generic path reads) is checked against the function it names, read
/// from the path as the node's API reads it: each spelling botocore writes names the same function, and a path that
/// could name another (a qualifier, an encoded separator, another call) is refused before anything is sent.
/// </summary>
public sealed class LambdaInvokeTargetTests
{
    [Theory]
    [InlineData("/2015-03-31/functions/orders-worker/invocations", "")]
    [InlineData("/2015-03-31/functions/orders-worker%3A%24LATEST/invocations", "")]
    [InlineData("/2015-03-31/functions/orders-worker/invocations", "Qualifier=%24LATEST")]
    [InlineData("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders-worker/invocations", "")]
    [InlineData("/2015-03-31/functions/000000000000%3Afunction%3Aorders-worker/invocations", "")]
    public void Every_spelling_of_a_function_names_it(string path, string query)
    {
        var target = ServiceTarget.Resolve(Invoke(path + (query.Length > 0 ? "?" + query : "")), "{}"u8);
        Assert.Equal(("Invoke", "function/orders-worker"), (target.Action, Assert.Single(target.Resources)));
    }

    [Theory]
    [InlineData("/2015-03-31/functions/orders-worker%3A7/invocations", "a version")]
    [InlineData("/2015-03-31/functions/orders-worker%3Alive/invocations", "an alias")]
    [InlineData("/2015-03-31/functions/orders%2Fworker/invocations", "an encoded '/'")]
    [InlineData("/2015-03-31/functions/orders%252Dworker/invocations", "a '%' the API would decode again")]
    [InlineData("/2015-03-31/functions/a/b/invocations", "two segments")]
    [InlineData("/2015-03-31/functions//invocations", "no name")]
    [InlineData("/2015-03-31/functions/arn%3Aaws%3Alambda%3A%2F%3Afunction%3Aorders-worker/invocations", "a '/' before :function:")]
    [InlineData("/2015-03-31/functions/orders-worker/invocations?Qualifier=7", "a qualifier")]
    [InlineData("/2015-03-31/functions/orders-worker/invocations?x=1", "another query")]
    [InlineData("/2015-03-31/functions/orders-worker/configuration", "another path")]
    public void A_path_that_could_name_another_function_is_refused(string pathAndQuery, string why)
    {
        var e = Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(Invoke(pathAndQuery), "{}"u8));
        Assert.True(e.Status == 400, $"{why}: {e.Status} {e.Message}");
    }

    [Fact]
    public void Other_Lambda_calls_are_not_served()
    {
        var request = ServiceRequest.Create(ServiceTarget.LambdaService, "GetFunction", "GET", "/2015-03-31/functions/orders-worker", []);
        var e = Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(request, []));
        Assert.Equal((501, "NotImplemented"), (e.Status, e.Code));
        // The same words as the signing proxy's, which sees the request but not the operation's name.
        Assert.Contains("GET \"/2015-03-31/functions/orders-worker\" was not sent", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_grant_names_the_function()
    {
        var manifest = new FunctionManifest
        {
            Name = "caller",
            Handler = "h.h",
            Services = [new ServiceGrant("lambda", ["Invoke"], "function/orders-*")],
        };
        ServiceCalls.CheckGrants(manifest, Invoke("/2015-03-31/functions/orders-worker/invocations"), "{}"u8);
        var denied = Assert.Throws<ChannelRequestException>(() => ServiceCalls.CheckGrants(manifest, Invoke("/2015-03-31/functions/billing/invocations"), "{}"u8));
        Assert.Equal(403, denied.Status);
        Assert.Contains("lambda:Invoke on resource function/billing", denied.Message, StringComparison.Ordinal);
    }

    private static ServiceRequest Invoke(string pathAndQuery) =>
        ServiceRequest.Create(ServiceTarget.LambdaService, "Invoke", "POST", pathAndQuery, [new("Content-Type", "application/json")]);
}
