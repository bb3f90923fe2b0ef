// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Backend.WriteBack;

/// <summary>The spool's disk has no room for the next segment: a record was refused before a byte of its body was read.</summary>
public sealed class SpoolFullException : IOException
{
    public SpoolFullException()
    {
    }

    public SpoolFullException(string message)
        : base(message)
    {
    }

    public SpoolFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
