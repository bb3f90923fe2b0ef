// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Node;

/// <summary>The event spool holds its limit (node.json <c>eventQueueMaxMiB</c>): the event was refused, not queued.</summary>
public sealed class EventQueueFullException : Exception
{
    public EventQueueFullException()
    {
    }

    public EventQueueFullException(string message)
        : base(message)
    {
    }

    public EventQueueFullException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
