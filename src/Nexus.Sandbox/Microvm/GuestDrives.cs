// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Security.Cryptography;
using System.Text;
using Nexus.Image;
using Nexus.Interop.FileSystem;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// The drives of Linux guests, in <c>&lt;run&gt;/drives</c>: the image's erofs root (<see cref="GuestDisks.EnsureRootAsync"/>,
/// cached in the image cache, linked here once per image) and code drives (<see cref="GuestDisks.BuildCodeDriveAsync"/>:
/// the function folder, the runtime's argv and environment). A nexus-mode revision with a ready snapshot has one code
/// drive, made with the snapshot (its boot is the function's init); every other instance gets its own, in its folder.
/// Everything lives on the run directory's file system, so each instance and jail hard-links its drives, as it does the
/// snapshot files: a retired revision's drive can be deleted at once while its VMs keep theirs.
/// </summary>
internal sealed class GuestDrives(string directory, string prefix, Action<string>? log)
{
    /// <summary>Where the region driver puts the Nexus region in a Linux guest (guest/driver/nexus.c).</summary>
    public const string RegionDevice = "/dev/nexus-region";

    private readonly Dictionary<string, Task<string>> _roots = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (string TemplateKey, Task<string> Made)> _code = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>
    /// The runtime's launch in the guest: the spec's command and environment, and in nexus mode the region device in
    /// place of the container's descriptors (the channel takes it over NEXUS_CHANNEL_FD &amp; co.).
    /// </summary>
    public static GuestLaunch Launch(SandboxSpec spec, bool nexus)
    {
        var environment = new Dictionary<string, string>(spec.Environment, StringComparer.Ordinal);
        if (nexus)
        {
            environment["NEXUS_CHANNEL_DEVICE"] = RegionDevice;
        }

        return new GuestLaunch(spec.Command, environment);
    }

    /// <summary>
    /// The file name of a revision's shared code drive: the template key and a hash of the function folder, the command
    /// and the environment without the values of <see cref="SandboxSpec.InstanceVariables"/> (they differ per instance;
    /// the drive holds those of the instance whose start made it).
    /// </summary>
    public static string TemplateDriveName(string prefix, string templateKey, string functionFolder, GuestLaunch launch, IReadOnlySet<string> instanceVariables)
    {
        var recipe = new StringBuilder().Append(Path.GetFullPath(functionFolder)).Append('\0');
        foreach (var argument in launch.Argv)
        {
            recipe.Append(argument).Append('\0');
        }

        foreach (var (name, value) in launch.Environment.OrderBy(e => e.Key, StringComparer.Ordinal))
        {
            recipe.Append(name).Append('=').Append(instanceVariables.Contains(name) ? "*" : value).Append('\0');
        }

        return $"{prefix}-code-{templateKey}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(recipe.ToString())))[..12]}.erofs";
    }

    /// <summary>The guest root of the image whose rootfs is <paramref name="rootfsPath"/> (built on first use, then linked here).</summary>
    public Task<string> RootAsync(string rootfsPath, CancellationToken cancellationToken)
    {
        Task<string> made;
        lock (_lock)
        {
            if (!_roots.TryGetValue(rootfsPath, out made!) || made.IsFaulted || made.IsCanceled)
            {
                made = _roots[rootfsPath] = MakeRootAsync(rootfsPath);
            }
        }

        return made.WaitAsync(cancellationToken);
    }

    /// <summary>The shared code drive of a template (made on first need; concurrent first starts share it).</summary>
    public Task<string> TemplateCodeAsync(string templateKey, string functionFolder, GuestLaunch launch, IReadOnlySet<string> instanceVariables, CancellationToken cancellationToken)
    {
        var name = TemplateDriveName(prefix, templateKey, functionFolder, launch, instanceVariables);
        Task<string> made;
        lock (_lock)
        {
            if (_code.TryGetValue(name, out var entry) && !entry.Made.IsFaulted && !entry.Made.IsCanceled)
            {
                made = entry.Made;
            }
            else
            {
                made = BuildAsync(functionFolder, launch, Path.Combine(directory, name));
                _code[name] = (templateKey, made);
            }
        }

        return made.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Hard-links <paramref name="drives"/> into <paramref name="folder"/> as vda, vdb, ... and returns those paths; throws
    /// when one is gone (its revision was retired meanwhile).
    /// </summary>
    public static IReadOnlyList<string> LinkInto(IReadOnlyList<string> drives, string folder)
    {
        if (drives.Count > 0)
        {
            Directory.CreateDirectory(folder);
        }

        var linked = new List<string>();
        for (var i = 0; i < drives.Count; i++)
        {
            var target = Path.Combine(folder, "vd" + (char)('a' + i));
            if (!File.Exists(drives[i]))
            {
                throw new InvalidOperationException($"the guest drive {drives[i]} was removed: its revision was retired");
            }

            if (!HardLink.TryCreate(drives[i], target))
            {
                throw new IOException($"cannot link the guest drive {drives[i]} into {folder}: they are on different file systems");
            }

            linked.Add(target);
        }

        return linked;
    }

    /// <summary>A retired revision's code drives are deleted (its VMs hold their own links).</summary>
    public void Release(string templateKey)
    {
        List<Task<string>> released;
        lock (_lock)
        {
            released = [.. _code.Where(e => e.Value.TemplateKey == templateKey).Select(e => e.Value.Made)];
            foreach (var name in _code.Where(e => e.Value.TemplateKey == templateKey).Select(e => e.Key).ToList())
            {
                _code.Remove(name);
            }
        }

        foreach (var made in released)
        {
            _ = DeleteWhenMadeAsync(made);
        }
    }

    /// <summary>Every drive here (this node's, or an earlier node's when it starts).</summary>
    public void RemoveAll()
    {
        lock (_lock)
        {
            _roots.Clear();
            _code.Clear();
        }

        if (Directory.Exists(directory))
        {
            foreach (var file in Directory.EnumerateFiles(directory, prefix + "-*"))
            {
                File.Delete(file);
            }
        }
    }

    private static async Task DeleteWhenMadeAsync(Task<string> made)
    {
        try
        {
            File.Delete(await made);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or UnauthorizedAccessException or ImageBuildException)
        {
            // Never made.
        }
    }

    private async Task<string> MakeRootAsync(string rootfsPath)
    {
        await Task.Yield();

        // <cache>/images/<image hash>/rootfs: the entry's name is the image's content hash.
        var entry = Path.GetDirectoryName(Path.GetFullPath(rootfsPath))!;
        var root = await GuestDisks.EnsureRootAsync(new FunctionImage(rootfsPath, Path.GetFileName(entry)), null, CancellationToken.None);
        Directory.CreateDirectory(directory);
        var target = Path.Combine(directory, $"{prefix}-root-{Path.GetFileName(entry)}-{Path.GetFileName(root)}");
        if (!File.Exists(target) && !HardLink.TryCreate(root, target))
        {
            // Once per image and node: every instance and jail then links this copy.
            log?.Invoke($"microvm: the image cache and {directory} are on different file systems: copying the guest root {root} there once");
            File.Copy(root, target + ".partial", overwrite: true);
            File.Move(target + ".partial", target);
        }

        return target;
    }

    private static async Task<string> BuildAsync(string functionFolder, GuestLaunch launch, string path)
    {
        await Task.Yield();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await GuestDisks.BuildCodeDriveAsync(functionFolder, launch, path + ".partial", CancellationToken.None);
        File.Move(path + ".partial", path, overwrite: true);
        return path;
    }
}
