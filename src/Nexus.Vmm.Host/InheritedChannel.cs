// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using Nexus.Interop;
using Nexus.Vmm.Builder;

namespace Nexus.Vmm.Host;

/// <summary>
/// The Nexus channel a parent (the node's microvm driver) hands down as three descriptors: the region memfd and the two
/// eventfds. Each is checked to be what it claims (by its /proc/self/fd link) before KVM sees it.
/// </summary>
internal static class InheritedChannel
{
    /// <summary>Parses "REGION,DOORBELL,INTERRUPT" (descriptor numbers above 2) and adopts the three descriptors.</summary>
    public static bool TryAdopt(string text, out NexusChannelFds? channel, out string error)
    {
        channel = null;
        var parts = text.Split(',');
        var fds = new int[3];
        if (parts.Length != 3 || !parts.Select((p, i) => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out fds[i]) && fds[i] > 2).All(ok => ok))
        {
            error = "expected three descriptor numbers above 2, e.g. 3,4,5";
            return false;
        }

        string[] kinds = ["/memfd:", "anon_inode:[eventfd]", "anon_inode:[eventfd]"];
        for (var i = 0; i < 3; i++)
        {
            string target;
            try
            {
                target = new FileInfo($"/proc/self/fd/{fds[i]}").LinkTarget ?? "";
            }
            catch (IOException e)
            {
                error = $"descriptor {fds[i]} is not open ({e.Message})";
                return false;
            }

            if (!target.StartsWith(kinds[i], StringComparison.Ordinal))
            {
                error = $"descriptor {fds[i]} is '{target}', expected {(i == 0 ? "a memfd" : "an eventfd")}";
                return false;
            }
        }

        channel = new NexusChannelFds(new SafeFd(fds[0]), EventFd.Adopt(new SafeFd(fds[1])), EventFd.Adopt(new SafeFd(fds[2])));
        error = "";
        return true;
    }
}
