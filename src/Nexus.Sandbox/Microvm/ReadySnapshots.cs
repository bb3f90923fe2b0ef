// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Nexus.Interop.FileSystem;

namespace Nexus.Sandbox.Microvm;

/// <summary>
/// One ready snapshot per template key (a function revision), made on first need by a VMM process that boots the guest
/// and snapshots it at its ready ring (<c>nexus-vmm --snapshot-to</c>). Why per revision and not per image: the snapshot
/// is taken after the runtime has loaded the function's handler (what a cold start would otherwise repeat), so it holds
/// that function's code; one boot per deploy is the price. Concurrent first starts share one boot; a failed boot is
/// not cached (the next start tries again) and its error names the VMM's last lines. A retired revision's snapshot is
/// deleted at once (<see cref="Release"/>): each instance restores from its own hard links of the files, so the running
/// VMs of that revision keep theirs.
/// </summary>
internal sealed class ReadySnapshots(string root, MicrovmDriverOptions options, Func<IReadOnlyList<string>> vmm, Func<VmmJail?> jail) : IAsyncDisposable
{
    // By snapshot folder name; the template key is kept beside it because names only start with it ("f-1" and "f-1-2").
    private readonly Dictionary<string, (string Key, Task<string> Made)> _made = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private readonly CancellationTokenSource _disposed = new();

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _made.Values.Count(e => e.Made.IsCompletedSuccessfully);
            }
        }
    }

    /// <summary>
    /// The snapshot folder's name: the template key (the revision) and a hash of everything else that decides what was
    /// booted: the kernel and each drive (path, size and modification time: the image's root is named by the image hash,
    /// a code drive by its content's, so a change of either is a new file), the appended command line, memory and
    /// region size. Any change makes a new snapshot.
    /// </summary>
    public static string Name(string prefix, string key, GuestBoot boot, int memoryMb, long regionSize)
    {
        ArgumentNullException.ThrowIfNull(boot);
        var recipe = new StringBuilder();
        foreach (var file in boot.Drives.Prepend(boot.Kernel).Select(f => new FileInfo(f)))
        {
            recipe.Append(CultureInfo.InvariantCulture, $"{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}\0");
        }

        recipe.Append(CultureInfo.InvariantCulture, $"{boot.AppendBootArgs}\0{memoryMb}|{regionSize}|{boot.PvLiteGuest}");
        return $"{prefix}-{key}-{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(recipe.ToString())))[..12]}";
    }

    /// <summary>The folder of the key's snapshot, made now if there is none yet for this boot, memory and region size.</summary>
    public Task<string> GetAsync(string key, GuestBoot boot, int memoryMb, long regionSize, CancellationToken cancellationToken)
    {
        if (regionSize % (1 << 20) != 0)
        {
            throw new ArgumentException($"the channel region is {regionSize} bytes; a microVM's region is a whole number of MiB", nameof(regionSize));
        }

        var name = Name(options.InstancePrefix, key, boot, memoryMb, regionSize);
        Task<string> made;
        lock (_lock)
        {
            if (_made.TryGetValue(name, out var entry) && !entry.Made.IsFaulted && !entry.Made.IsCanceled)
            {
                made = entry.Made;
            }
            else
            {
                made = MakeAsync(Path.Combine(root, name), boot, memoryMb, regionSize);
                _made[name] = (key, made);
            }
        }

        return made.WaitAsync(cancellationToken);
    }

    /// <summary>
    /// Hard-links the files of the snapshot in <paramref name="folder"/> (from <see cref="GetAsync"/>) into
    /// <paramref name="target"/>, which the instance then restores from; throws when the snapshot was released meanwhile
    /// (its revision retired: no instance starts from it again).
    /// </summary>
    public string LinkInto(string folder, string target)
    {
        lock (_lock)
        {
            if (!_made.TryGetValue(Path.GetFileName(folder), out var entry) || !entry.Made.IsCompletedSuccessfully)
            {
                throw new InvalidOperationException($"the ready snapshot {Path.GetFileName(folder)} was released: its revision was retired");
            }

            Directory.CreateDirectory(target);
            foreach (var file in Directory.EnumerateFiles(folder))
            {
                if (!HardLink.TryCreate(file, Path.Combine(target, Path.GetFileName(file))))
                {
                    throw new IOException($"cannot link the snapshot {folder} into {target}: they are on different file systems");
                }
            }

            return target;
        }
    }

    /// <summary>
    /// No instance will start from <paramref name="templateKey"/>'s snapshots again: they are deleted (one still booting
    /// once it is made). Running instances restored from them keep their own links.
    /// </summary>
    public void Release(string templateKey)
    {
        List<Task<string>> released = [];
        lock (_lock)
        {
            foreach (var (name, entry) in _made.Where(e => e.Value.Key == templateKey).ToList())
            {
                _made.Remove(name);
                released.Add(entry.Made);
            }
        }

        foreach (var made in released)
        {
            _ = DeleteWhenMadeAsync(made);
        }
    }

    /// <summary>Snapshot folders of an earlier node (a VMM still booting one is killed first).</summary>
    public async Task RemoveLeftoversAsync(Func<string, Task> removeVm)
    {
        Directory.CreateDirectory(root);
        foreach (var folder in Directory.EnumerateDirectories(root, options.InstancePrefix + "*"))
        {
            await removeVm(folder);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _disposed.CancelAsync();
        Task<string>[] all;
        lock (_lock)
        {
            all = [.. _made.Values.Select(e => e.Made)];
            _made.Clear();
        }

        foreach (var made in all)
        {
            await DeleteWhenMadeAsync(made);
        }

        _disposed.Dispose();
    }

    private static async Task DeleteWhenMadeAsync(Task<string> made)
    {
        try
        {
            var folder = await made;
            Directory.Delete(folder, recursive: true);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or UnauthorizedAccessException)
        {
            // Never made, or its folder went with the failed boot.
        }
    }

    private async Task<string> MakeAsync(string folder, GuestBoot boot, int memoryMb, long regionSize)
    {
        await Task.Yield();
        if (Directory.Exists(folder))
        {
            Directory.Delete(folder, recursive: true);
        }

        Directory.CreateDirectory(folder);
        var lines = new Queue<string>();
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        JailedVmm? jailed = null;
        VmCgroup? cgroup = null;
        try
        {
            // The boot that makes the snapshot is the function's init: the VM's whole CPU allowance.
            if (options.Cgroups is { } cgroups)
            {
                cgroup = VmCgroup.Create(cgroups, Path.GetFileName(folder), ((long)memoryMb << 20) + regionSize, double.PositiveInfinity);
            }

            // Jailed, the VMM writes the snapshot into its chroot's /snapshot (its own), and the files are moved out after.
            var (bootArguments, outputArgument) = (boot, folder);
            if (jail() is { } vmmJail)
            {
                jailed = vmmJail.Prepare(folder, cgroup ?? throw new InvalidOperationException("a jailed VMM runs in its VM's cgroups: the driver's Cgroups option cannot be null with Jail set"), boot.JailFiles(snapshotFolder: null), tun: false, netnsPath: null);
                var output = Path.Combine(jailed.Root, "snapshot");
                Directory.CreateDirectory(output);
                DeviceNodes.SetOwner(output, jailed.Uid, jailed.Uid);
                (bootArguments, outputArgument) = (boot.InJail(), "/snapshot");
            }

            var (process, pumps) = VmmProcesses.Spawn(
                jailed?.Command ?? vmm(),
                [
                    .. bootArguments.BootArguments(memoryMb),
                    "--nexus-region", (regionSize >> 20).ToString(CultureInfo.InvariantCulture),
                    "--snapshot-to", outputArgument, "--timeout", ((int)Math.Ceiling(options.ReadyTimeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture),
                ],
                [],
                (line, _) =>
                {
                    lock (lines)
                    {
                        lines.Enqueue(line);
                        if (lines.Count > 8)
                        {
                            lines.Dequeue();
                        }
                    }
                },
                jailed is not null,
                cgroup);
            VmmProcesses.WritePidFile(folder, process.Pid);
            using var stop = _disposed.Token.Register(() => process.Signal(9));
            var status = await process.Exited;
            await Task.WhenAny(Task.WhenAll(pumps.Select(p => p.Completion)), Task.Delay(TimeSpan.FromSeconds(2)));
            if (jailed is not null && status.ExitCode == 0)
            {
                TakeOutOfJail(jailed, folder);
            }

            if (cgroup is not null && !await cgroup.RemoveAsync(TimeSpan.FromSeconds(5)))
            {
                throw new IOException($"the VM's cgroups {string.Join(", ", cgroup.Directories)} still have processes after its VMM exited");
            }

            if (status.ExitCode != 0 || !File.Exists(Path.Combine(folder, "vm.state")))
            {
                string last;
                lock (lines)
                {
                    last = string.Join(" | ", lines);
                }

                throw new IOException($"the microVM for snapshot {Path.GetFileName(folder)} did not become ready (VMM exit {status.ExitCode?.ToString(CultureInfo.InvariantCulture) ?? "signal " + status.Signal}): {last}");
            }

            File.Delete(Path.Combine(folder, "pid"));
            options.Log?.Invoke(string.Create(CultureInfo.InvariantCulture,
                $"microvm: ready snapshot {Path.GetFileName(folder)} made in {System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds:0} ms"));
            return folder;
        }
        catch (Exception e)
        {
            options.Log?.Invoke("microvm: " + e.Message);
            if (cgroup is not null)
            {
                await cgroup.RemoveAsync(TimeSpan.FromSeconds(5));
            }

            Directory.Delete(folder, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Moves the snapshot a jailed VMM wrote out of its chroot, root-owned and read-only (every restored VM's jail
    /// hard-links these files, and a later VM may get the same uid), then removes the chroot.
    /// </summary>
    private static void TakeOutOfJail(JailedVmm jailed, string folder)
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(jailed.Root, "snapshot")))
        {
            var target = Path.Combine(folder, Path.GetFileName(file));
            File.Move(file, target);
            DeviceNodes.SetOwner(target, 0, 0);
            if (OperatingSystem.IsLinux())
            {
                File.SetUnixFileMode(target, UnixFileMode.UserRead | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }
        }

        Directory.Delete(jailed.Root, recursive: true);
    }
}
