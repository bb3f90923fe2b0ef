// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;

namespace Nexus.Sandbox;

/// <summary>
/// The freezer cgroups a process is in, found through /proc/&lt;pid&gt;/cgroup: the v1 freezer hierarchy's and the v2
/// unified one's (which has a freezer in every cgroup). Someone else froze them (<c>runc pause</c>, an operator): the
/// node only looks, and thaws one it is stopping.
/// </summary>
public static class CgroupFreezer
{
    public const string DefaultRoot = "/sys/fs/cgroup";

    /// <summary>Whether one of the process's freezer cgroups is frozen or freezing; false when it cannot be read.</summary>
    public static bool IsFrozen(int pid, string cgroupRoot = DefaultRoot)
    {
        Span<byte> state = stackalloc byte[256];
        foreach (var (directory, v1) in Cgroups(pid, cgroupRoot))
        {
            if (v1)
            {
                var text = ProcessFiles.ReadFile(Path.Combine(directory, "freezer.state"), state);
                if (!text.IsEmpty && !text.TrimEnd((byte)'\n').SequenceEqual("THAWED"u8))
                {
                    return true;
                }
            }
            else if (ProcessFiles.ReadFile(Path.Combine(directory, "cgroup.events"), state).IndexOf("frozen 1"u8) >= 0)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Thaws the process's v1 freezer cgroup if it is frozen: a v1-frozen task takes a SIGKILL only once thawed, so a
    /// stop would wait forever (v2 lets fatal signals through a freeze, so its cgroups are left as they are). Called
    /// after the kill is sent, so no code of the process runs again. False when there was nothing to thaw or it failed.
    /// </summary>
    public static bool ThawV1(int pid, string cgroupRoot = DefaultRoot)
    {
        foreach (var (directory, v1) in Cgroups(pid, cgroupRoot))
        {
            var file = Path.Combine(directory, "freezer.state");
            try
            {
                if (v1 && File.Exists(file) && File.ReadAllText(file).Trim() != "THAWED")
                {
                    File.WriteAllText(file, "THAWED");
                    return true;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The cgroup went with the process, or it is not ours to write: the stop's own wait reports it.
            }
        }

        return false;
    }

    /// <summary>The process's v1 freezer cgroup directory and its v2 one (below the root: the root cannot freeze).</summary>
    private static IEnumerable<(string Directory, bool V1)> Cgroups(int pid, string cgroupRoot)
    {
        Span<byte> buffer = stackalloc byte[2048];
        var lines = Encoding.ASCII.GetString(ProcessFiles.ReadFile($"/proc/{pid}/cgroup", buffer)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var found = new List<(string, bool)>(2);
        foreach (var line in lines)
        {
            // "hierarchy-id:controllers:path"; the path may itself hold ':'.
            var fields = line.Split(':', 3);
            if (fields.Length != 3 || fields[2].TrimStart('/') is not { Length: > 0 } relative)
            {
                continue;
            }

            if (fields[1].Split(',').Contains("freezer"))
            {
                found.Add((Path.Combine(cgroupRoot, "freezer", relative), true));
            }
            else if (fields[0] == "0" && fields[1].Length == 0)
            {
                // Pure v2 mounts the unified hierarchy at the root; a hybrid host under "unified".
                var unified = File.Exists(Path.Combine(cgroupRoot, "cgroup.controllers")) ? cgroupRoot : Path.Combine(cgroupRoot, "unified");
                found.Add((Path.Combine(unified, relative), false));
            }
        }

        return found;
    }
}
