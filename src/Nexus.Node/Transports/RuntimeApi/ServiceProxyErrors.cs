// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Xml.Linq;
using Microsoft.AspNetCore.Http;
using Nexus.Channel.Services;
using Nexus.Store;

namespace Nexus.Node.Transports.RuntimeApi;

/// <summary>
/// The signing proxy's refusals as the service would send them, so the caller's real botocore raises them as its own:
/// a JSON-protocol request (X-Amz-Target) gets <c>{"__type": code, "message": ...}</c>, a query-protocol one (a form
/// body) an <c>ErrorResponse</c> document; both carry a request id. A refusal of the grant check is the same
/// AccessDenied (code, message, status) the generic path raises in nexus mode.
/// </summary>
internal static class ServiceProxyErrors
{
    /// <summary>
    /// A failed signature check in AWS's terms for these services: DynamoDB-style JSON services answer 400 with
    /// *Exception codes, query-protocol services 403 with their own codes.
    /// </summary>
    public static ChannelRequestException OfSignature(S3Exception error, bool json)
    {
        ArgumentNullException.ThrowIfNull(error);
        var (code, status) = error.Code switch
        {
            "InvalidAccessKeyId" => json ? ("UnrecognizedClientException", 400) : ("InvalidClientTokenId", 403),
            "SignatureDoesNotMatch" or "RequestTimeTooSkewed" => json ? ("InvalidSignatureException", 400) : ("SignatureDoesNotMatch", 403),
            "AuthorizationHeaderMalformed" => json ? ("IncompleteSignatureException", 400) : ("IncompleteSignature", 400),
            _ => json ? ("MissingAuthenticationTokenException", 400) : ("MissingAuthenticationToken", 403),
        };
        return new ChannelRequestException(status, code, error.Message);
    }

    /// <summary>
    /// Whether the request speaks a JSON protocol (its errors are JSON): JSON (X-Amz-Target, application/x-amz-json-*) or
    /// REST-JSON (application/json, as SES v2 sends; or signed for Lambda, whose Invoke has no content type) rather than
    /// query or REST-XML. botocore reads a REST-JSON error's message from a JSON body only: it took the whole XML
    /// document of a Lambda refusal for the message.
    /// </summary>
    public static bool IsJson(HttpRequest request) =>
        request.Headers.ContainsKey("X-Amz-Target")
        || request.ContentType?.StartsWith("application/x-amz-json-", StringComparison.OrdinalIgnoreCase) == true
        || request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) == true
        || request.Headers.Authorization.ToString().Contains("/lambda/aws4_request", StringComparison.Ordinal);

    public static async Task WriteAsync(HttpContext context, ChannelRequestException error, bool json)
    {
        var requestId = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        var response = context.Response;
        response.StatusCode = error.Status;
        response.Headers["x-amzn-RequestId"] = requestId;

        // Where REST-JSON clients read the code when the body is not JSON (a GET sends no content type to tell by).
        response.Headers["x-amzn-ErrorType"] = error.Code;
        if (json)
        {
            response.ContentType = "application/x-amz-json-1.0";
            await response.WriteAsync(new JsonObject { ["__type"] = error.Code, ["message"] = error.Message }.ToJsonString(), context.RequestAborted);
            return;
        }

        response.ContentType = "text/xml";
        var document = new XElement(
            "ErrorResponse",
            new XElement("Error", new XElement("Code", error.Code), new XElement("Message", error.Message)),
            new XElement("RequestId", requestId));
        await response.WriteAsync(document.ToString(SaveOptions.DisableFormatting), context.RequestAborted);
    }
}
