// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;
using Nexus.Interop.FileSystem;

namespace Nexus.Sandbox.Template;

/// <summary>
/// A root of its own for each instance forked from one template, so that each has its own <c>/tmp</c>, as each Lambda
/// execution environment has. Built by the node inside the template container's mount namespace, under the root-only
/// tmpfs at <see cref="SandboxSpec.InstanceRootsPath"/> (made unbindable, so a root never holds the others):
/// <c>&lt;name&gt;</c> is a recursive bind of the container's root (read-only root, /proc with its masks, /dev, /sys,
/// /var/task: the same mounts the template has) with an overlay on its <c>/tmp</c> whose lower layer is the template's
/// own /tmp (what the module wrote while it loaded, seen by every instance, as an init phase's files are on Lambda) and
/// whose upper layer is a fresh tmpfs of the instance's /tmp size (<c>&lt;name&gt;.rw</c>): what an instance writes
/// there only it sees, counted against its own memory. The forked child chroots into it and drops CAP_SYS_CHROOT
/// before the handler runs (runtime/nexus_runtime/instance_root.py). Names are random: the template cannot list the
/// tmpfs (mode 0711) to find its instances' roots. One root is kept built ahead, so a cold start takes a ready one and
/// the next is built after the fork has been asked for, off the cold start's path.
/// </summary>
internal sealed class InstanceRoots : IDisposable
{
    private const UnixFileMode RootsFolderMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;

    private readonly SafeFileHandle _namespace;
    private readonly string _parent;
    private readonly int _tmpMb;
    private readonly Lock _gate = new();
    private Task<string>? _spare;
    private int _disposed;

    private InstanceRoots(SafeFileHandle mountNamespace, string parent, int tmpMb)
    {
        _namespace = mountNamespace;
        _parent = parent;
        _tmpMb = tmpMb;
    }

    /// <summary>
    /// Takes hold of the mount namespace of template process <paramref name="templatePid"/>, readies its roots' tmpfs and
    /// starts building the first root, with a /tmp of <paramref name="tmpMb"/> MiB (the revision's).
    /// </summary>
    public static InstanceRoots Open(int templatePid, int tmpMb)
    {
        var handle = MountNamespace.Open(templatePid);
        try
        {
            var roots = new InstanceRoots(handle, SandboxSpec.InstanceRootsPath, tmpMb);

            MountNamespace.RunIn(handle, () =>
            {
                // Unbindable: the recursive bind of "/" that makes each root skips this tmpfs, so no root shows the others.
                Mounts.Mount(null, roots._parent, null, MountFlags.Unbindable);

                // runc gives a tmpfs the mode of the folder it covers (0755): the template may pass, not list.
                Mounts.SetMode(roots._parent, RootsFolderMode);
            });
            roots._spare = Task.Run(roots.Build);
            return roots;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// A root for one instance (its path as the template sees it): the one built ahead (waited for if it is still being
    /// built; built now if that failed), and the next starts being built.
    /// </summary>
    public async Task<string> TakeAsync()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        Task<string>? spare;
        lock (_gate)
        {
            spare = _spare;
            _spare = null;
        }

        string root;
        try
        {
            root = spare is null ? Build() : await spare;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException)
        {
            root = Build();
        }

        lock (_gate)
        {
            _spare ??= Volatile.Read(ref _disposed) == 0 ? Task.Run(Build) : null;
        }

        return root;
    }

    // A root with a /tmp of the revision's size.
    private string Build()
    {
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var root = $"{_parent}/{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(12))}";
        var layer = root + ".rw";
        var size = _tmpMb.ToString(CultureInfo.InvariantCulture);
        MountNamespace.RunIn(_namespace, () =>
        {
            Mounts.MakeDirectory(root, RootsFolderMode);
            Mounts.MakeDirectory(layer, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            try
            {
                Mounts.Mount("tmpfs", layer, "tmpfs", MountFlags.NoSuid | MountFlags.NoDev, $"size={size}m,mode=0700");
                Mounts.MakeDirectory(layer + "/upper", (UnixFileMode)0x3FF /* 1777, as /tmp */);
                Mounts.MakeDirectory(layer + "/work", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                Mounts.Mount("/", root, null, MountFlags.Bind | MountFlags.Recursive);
                Mounts.Mount("overlay", root + "/tmp", "overlay", MountFlags.NoSuid | MountFlags.NoDev, $"lowerdir=/tmp,upperdir={layer}/upper,workdir={layer}/work");
            }
            catch
            {
                Remove(root, layer);
                throw;
            }
        });
        return root;
    }

    /// <summary>Takes a root apart once its instance is gone (nothing to do once the template itself is gone: its namespace took the roots along).</summary>
    public void Release(string root)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        try
        {
            MountNamespace.RunIn(_namespace, () => Remove(root, root + ".rw"));
        }
        catch (ObjectDisposedException)
        {
            // The template was stopped meanwhile.
        }
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _namespace.Dispose();
        }
    }

    // Whatever exists of a root: each step may fail because an earlier Prepare step never happened.
    private static void Remove(string root, string layer)
    {
        foreach (var step in new Action[] { () => Mounts.Detach(root), () => Mounts.Detach(layer), () => Mounts.RemoveDirectory(root), () => Mounts.RemoveDirectory(layer) })
        {
            try
            {
                step();
            }
            catch (Nexus.Interop.UnixException)
            {
            }
        }
    }
}
