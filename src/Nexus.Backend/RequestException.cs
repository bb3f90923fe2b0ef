// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend;

/// <summary>A request fails with an S3-shaped error (status, code, message) sent back to the sandbox.</summary>
internal sealed class RequestException : Exception
{
    public RequestException(int status, string code, string message)
        : base(message)
    {
        Status = status;
        Code = code;
    }

    public RequestException()
        : this(500, "InternalError", "internal error")
    {
    }

    public RequestException(string message)
        : this(400, "InvalidRequest", message)
    {
    }

    public RequestException(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 400;
        Code = "InvalidRequest";
    }

    public int Status { get; }

    public string Code { get; } = "InternalError";

    public static RequestException Invalid(string message) => new(400, "InvalidRequest", message);

    public static RequestException Denied(string message) => new(403, "AccessDenied", message);
}
