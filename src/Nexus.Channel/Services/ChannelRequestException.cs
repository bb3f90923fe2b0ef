// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Channel.Services;

/// <summary>
/// A request fails with an error (HTTP-like status, code, message, optionally the resource it concerns) the session sends
/// back to the sandbox as <c>{"Error":{"Code","Message","Resource"}}</c>.
/// </summary>
public sealed class ChannelRequestException : Exception
{
    public ChannelRequestException(int status, string code, string message)
        : base(message)
    {
        Status = status;
        Code = code;
    }

    public ChannelRequestException()
        : this(500, "InternalError", "internal error")
    {
    }

    public ChannelRequestException(string message)
        : this(400, "InvalidRequest", message)
    {
    }

    public ChannelRequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 400;
        Code = "InvalidRequest";
    }

    public int Status { get; }

    public string Code { get; } = "InternalError";

    /// <summary>What S3's error document names as its Resource (the request's "/bucket/key"), or null: none is sent.</summary>
    public string? Resource { get; init; }

    public static ChannelRequestException Invalid(string message) => new(400, "InvalidRequest", message);

    public static ChannelRequestException Denied(string message) => new(403, "AccessDenied", message);

    /// <summary>The same refusal, naming <paramref name="resource"/>.</summary>
    public ChannelRequestException At(string resource) => new(Status, Code, Message) { Resource = resource };

    /// <summary>The refusal <paramref name="e"/> is or wraps (a bad chunk surfaces inside a consumer of the body), or null.</summary>
    public static ChannelRequestException? In(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            if (x is ChannelRequestException refusal)
            {
                return refusal;
            }
        }

        return null;
    }
}
