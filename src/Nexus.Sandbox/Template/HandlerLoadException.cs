// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Sandbox.Template;

/// <summary>A template's handler failed to load (its module raised at import): the template never becomes ready.</summary>
public sealed class HandlerLoadException : Exception
{
    public HandlerLoadException()
    {
    }

    public HandlerLoadException(string message)
        : base(message)
    {
    }

    public HandlerLoadException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
