// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Backend.Services;
using Nexus.Channel.Services;
using Nexus.Functions;

namespace Nexus.Backend.Tests;

/// <summary>
/// A function's Lambda Invoke and reads (the REST calls the generic path reads) are checked against the function they name, read
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
    public void A_path_that_could_name_another_function_is_refused(string pathAndQuery, string why)
    {
        var e = Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(Invoke(pathAndQuery), "{}"u8));
        Assert.True(e.Status == 400, $"{why}: {e.Status} {e.Message}");
    }

    [Fact]
    public void Other_Lambda_calls_are_not_served()
    {
        // GetFunction among them: its answer names the function's code folder on the host.
        var request = ServiceRequest.Create(ServiceTarget.LambdaService, "GetFunction", "GET", "/2015-03-31/functions/orders-worker", []);
        var e = Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(request, []));
        Assert.Equal((501, "NotImplemented"), (e.Status, e.Code));
        // The same words as the signing proxy's, which sees the request but not the operation's name.
        Assert.Contains("GET \"/2015-03-31/functions/orders-worker\" was not sent", e.Message, StringComparison.Ordinal);
        Assert.Throws<ChannelRequestException>(() => ServiceTarget.LambdaActionOf("GET", "/2015-03-31/functions/orders-worker"));
    }

    [Theory]
    [InlineData("/2015-03-31/functions/orders-worker/configuration")]
    [InlineData("/2015-03-31/functions/orders-worker%3A%24LATEST/configuration")]
    [InlineData("/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Aorders-worker/configuration?Qualifier=%24LATEST")]
    public void A_configuration_read_names_its_function(string pathAndQuery)
    {
        var target = ServiceTarget.Resolve(Call("GetFunctionConfiguration", "GET", pathAndQuery), []);
        Assert.Equal(("GetFunctionConfiguration", "function/orders-worker"), (target.Action, Assert.Single(target.Resources)));
        Assert.Equal("GetFunctionConfiguration", ServiceTarget.LambdaActionOf("GET", pathAndQuery.Split('?')[0]));
    }

    [Theory]
    [InlineData("/2015-03-31/functions/")]
    [InlineData("/2015-03-31/functions/?MaxItems=5&Marker=orders")]
    [InlineData("/2015-03-31/functions/?FunctionVersion=ALL&MasterRegion=us-east-1")]
    public void A_listing_is_of_every_function(string pathAndQuery)
    {
        var target = ServiceTarget.Resolve(Call("ListFunctions", "GET", pathAndQuery), []);
        Assert.Equal(("ListFunctions", "*"), (target.Action, Assert.Single(target.Resources)));
    }

    [Theory]
    [InlineData("ListFunctions", "GET", "/2015-03-31/functions/?Qualifier=x", "a query member ListFunctions does not take")]
    [InlineData("ListFunctions", "GET", "/2015-03-31/functions/orders-worker/configuration", "another call's path")]
    [InlineData("Invoke", "GET", "/2015-03-31/functions/orders-worker/configuration", "a claim that is not the request")]
    [InlineData("GetFunctionConfiguration", "POST", "/2015-03-31/functions/orders-worker/invocations", "a claim that is not the request")]
    [InlineData("GetFunctionConfiguration", "GET", "/2015-03-31/functions/orders-worker%3A7/configuration", "a version")]
    [InlineData("GetFunctionConfiguration", "GET", "/2015-03-31/functions/a/b/configuration", "two segments")]
    [InlineData("GetFunctionConfiguration", "GET", "/2015-03-31/functions/orders-worker/configuration?Qualifier=live", "an alias")]
    public void A_read_that_is_not_what_it_says_is_refused(string operation, string method, string pathAndQuery, string why)
    {
        // The sandbox names the operation; the node reads the action from method and path and holds the call to it.
        var e = Assert.Throws<ChannelRequestException>(() => ServiceTarget.Resolve(Call(operation, method, pathAndQuery), []));
        Assert.True(e.Status == 400, $"{why}: {e.Status} {e.Message}");
    }

    [Fact]
    public void Reads_need_their_own_grants()
    {
        var manifest = new FunctionManifest
        {
            Name = "caller",
            Handler = "h.h",
            Services = [new ServiceGrant("lambda", ["Invoke", "GetFunctionConfiguration"], "function/orders-*")],
        };
        ServiceCalls.CheckGrants(manifest, Call("GetFunctionConfiguration", "GET", "/2015-03-31/functions/orders-worker/configuration"), []);
        var other = Assert.Throws<ChannelRequestException>(() => ServiceCalls.CheckGrants(manifest, Call("GetFunctionConfiguration", "GET", "/2015-03-31/functions/billing/configuration"), []));
        Assert.Contains("lambda:GetFunctionConfiguration on resource function/billing", other.Message, StringComparison.Ordinal);
        // Listing every function needs a grant on every function.
        var list = Assert.Throws<ChannelRequestException>(() => ServiceCalls.CheckGrants(manifest, Call("ListFunctions", "GET", "/2015-03-31/functions/"), []));
        Assert.Equal(403, list.Status);
    }

    private static ServiceRequest Call(string operation, string method, string pathAndQuery) =>
        ServiceRequest.Create(ServiceTarget.LambdaService, operation, method, pathAndQuery, []);

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
