// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Image;

/// <summary>The image could not be built; the message says what is missing or what failed, and where.</summary>
public sealed class ImageBuildException : Exception
{
    public ImageBuildException()
    {
    }

    public ImageBuildException(string message)
        : base(message)
    {
    }

    public ImageBuildException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
