// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Channel.Services;

/// <summary>A request fails with an error (HTTP-like status, code, message) the session sends back to the sandbox as <c>{"Error":{"Code","Message"}}</c>.</summary>
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

    public static ChannelRequestException Invalid(string message) => new(400, "InvalidRequest", message);

    public static ChannelRequestException Denied(string message) => new(403, "AccessDenied", message);
}
