// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Collections.Concurrent;
using System.IO.Compression;
using System.Security.Cryptography;
using Nexus.Functions;

namespace Nexus.Node.Registry;

/// <summary>
/// The functions deployed on this node, persisted under <c>$NEXUS_HOME/functions</c>: each function has a folder
/// <c>functions/&lt;name&gt;/</c> holding its unpacked revisions (<c>&lt;rev&gt;/</c>, the folder contents with the manifest)
/// and a <c>CURRENT</c> file naming the live one. A deploy unpacks a new revision, then replaces <c>CURRENT</c> by
/// rename(2), so a reader or a crash sees the old revision or the new one, never a mix.
/// </summary>
public sealed class FunctionRegistry
{
    /// <summary>Bounds on an uploaded function package (zip): what a sane Python function folder needs.</summary>
    public const long MaxPackageBytes = 64L * 1024 * 1024;
    public const long MaxUnpackedBytes = 256L * 1024 * 1024;
    public const int MaxFiles = 10_000;

    private const string CurrentFile = "CURRENT";

    private readonly string _root;
    private readonly ConcurrentDictionary<string, DeployedFunction> _functions = new(StringComparer.Ordinal);
    private readonly Lock _deployLock = new();

    // One gate per function with a change under way or waiting (BeginChangeAsync), with how many hold or wait for it.
    private readonly Dictionary<string, (SemaphoreSlim Gate, int Users)> _gates = new(StringComparer.Ordinal);
    private readonly double _maxCpus;
    private readonly Func<string?, string?>? _whyHostCannotRun;

    /// <summary>
    /// The registry under <paramref name="functionsDirectory"/>; a manifest may name at most <paramref name="maxCpus"/>
    /// <c>cpus</c> (<see cref="NodeOptions.MaxFunctionCpus"/>), and a deploy is refused when
    /// <paramref name="whyHostCannotRun"/> says why the host cannot run the manifest's <c>sandbox</c>
    /// (<see cref="Nexus.Sandbox.ISandboxDriver.WhyHostCannotRun"/>).
    /// </summary>
    public FunctionRegistry(string functionsDirectory, double maxCpus = ManifestParser.MaxCpus, Func<string?, string?>? whyHostCannotRun = null)
    {
        _root = functionsDirectory;
        _maxCpus = maxCpus;
        _whyHostCannotRun = whyHostCannotRun;
        Directory.CreateDirectory(_root);
    }

    public IReadOnlyCollection<DeployedFunction> All => [.. _functions.Values.OrderBy(f => f.Name, StringComparer.Ordinal)];

    public bool TryGet(string name, out DeployedFunction function) => _functions.TryGetValue(name, out function!);

    /// <summary>
    /// Loads every deployed function after a (re)start and removes debris of interrupted deploys and removals:
    /// staging directories, revisions CURRENT does not name, folders without CURRENT. Returns the functions whose
    /// manifests no longer load, with why.
    /// </summary>
    public IReadOnlyList<string> Load()
    {
        var problems = new List<string>();
        foreach (var folder in Directory.EnumerateDirectories(_root))
        {
            var name = Path.GetFileName(folder);
            var current = Path.Combine(folder, CurrentFile);
            if (name.StartsWith('.') || !File.Exists(current))
            {
                TryDelete(folder);
                continue;
            }

            var revisionDir = Path.Combine(folder, File.ReadAllText(current).Trim());
            try
            {
                var function = Describe(ManifestParser.LoadFolder(revisionDir, _maxCpus), revisionDir);
                if (function.Name != name)
                {
                    throw new ManifestException($"{folder}: holds function '{function.Name}'");
                }

                _functions[name] = function;
                Prune(name);
            }
            catch (Exception e) when (e is ManifestException or IOException)
            {
                problems.Add($"{name}: {e.Message}");
            }
        }

        return problems;
    }

    /// <summary>
    /// Begins a change to the function <paramref name="name"/> (deployed or not): completes once no other change of it
    /// is under way, and holds off the next until disposed. A deploy or removal not given one takes its own; a caller
    /// that reads the function and then deploys over it (the Lambda API's updates: their RevisionId check, the settings
    /// or code they keep) holds one across both, so that no deploy, removal or other update of that function lands in
    /// between. Changes of different functions do not wait for each other.
    /// </summary>
    public async Task<FunctionChange> BeginChangeAsync(string name, CancellationToken cancellationToken)
    {
        var gate = EnterGate(name);
        try
        {
            await gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            LeaveGate(name, gate, held: false);
            throw;
        }

        return new FunctionChange(this, name, gate);
    }

    /// <summary><see cref="BeginChangeAsync"/>, waiting on the calling thread.</summary>
    public FunctionChange BeginChange(string name)
    {
        var gate = EnterGate(name);
        gate.Wait();
        return new FunctionChange(this, name, gate);
    }

    private SemaphoreSlim EnterGate(string name)
    {
        lock (_gates)
        {
            var (gate, users) = _gates.TryGetValue(name, out var entry) ? entry : (new SemaphoreSlim(1, 1), 0);
            _gates[name] = (gate, users + 1);
            return gate;
        }
    }

    internal void LeaveGate(string name, SemaphoreSlim gate, bool held)
    {
        if (held)
        {
            gate.Release();
        }

        lock (_gates)
        {
            var (_, users) = _gates[name];
            if (users == 1)
            {
                _gates.Remove(name);
                gate.Dispose();
            }
            else
            {
                _gates[name] = (gate, users - 1);
            }
        }
    }

    /// <summary>
    /// Validates and installs a zipped function folder; replaces an earlier deploy of the same name atomically.
    /// <paramref name="manifestOf"/>, when given, writes the revision's <c>function.yaml</c> from the package's (null
    /// when it has none): the Lambda API's settings over it. Installs under <paramref name="change"/> (which must be
    /// of the package's function), or begins and ends its own change around the install. Throws
    /// <see cref="ManifestException"/> (bad manifest) or <see cref="InvalidDataException"/> (bad package).
    /// </summary>
    public DeployedFunction Deploy(Stream zip, Func<string?, string>? manifestOf = null, FunctionChange? change = null)
    {
        using var staged = Stage(zip, manifestOf);
        using var own = change is null ? BeginChange(staged.Name) : null;
        return Install(staged, change ?? own!);
    }

    /// <summary>
    /// The first half of <see cref="Deploy"/>: unpacks and checks the package in a staging folder of its own, without
    /// waiting for a change of the function (<see cref="Install"/> does). Disposing it deletes what was not installed.
    /// </summary>
    public StagedFunction Stage(Stream zip, Func<string?, string>? manifestOf = null)
    {
        var staging = Path.Combine(_root, ".staging-" + Guid.NewGuid().ToString("N"));
        try
        {
            Directory.CreateDirectory(staging);
            Unpack(zip, staging);
            if (manifestOf is not null)
            {
                WriteManifest(staging, manifestOf);
            }

            var manifest = ManifestParser.LoadFolder(staging, _maxCpus);
            if (_whyHostCannotRun?.Invoke(manifest.Sandbox) is { } why)
            {
                throw new ManifestException(ManifestParser.FileName, 0, "sandbox", $"{manifest.Sandbox ?? "the node's default"}: {why}");
            }

            return new StagedFunction(staging, manifest);
        }
        catch
        {
            TryDelete(staging);
            throw;
        }
    }

    /// <summary>The second half of <see cref="Deploy"/>: makes <paramref name="staged"/> the function's live revision, under <paramref name="change"/>, a change of that function begun here and not ended.</summary>
    public DeployedFunction Install(StagedFunction staged, FunctionChange change)
    {
        ArgumentNullException.ThrowIfNull(staged);
        CheckHeld(change, staged.Name);
        var manifest = staged.Manifest;
        lock (_deployLock)
        {
            var revision = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture) + "-" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
            var folder = Path.Combine(_root, manifest.Name);
            Directory.CreateDirectory(folder);
            var revisionDir = Path.Combine(folder, revision);
            Directory.Move(staged.Directory, revisionDir);
            Nexus.Interop.DirectorySync.Fsync(folder);
            var temp = Path.Combine(folder, $".{CurrentFile}-{Guid.NewGuid():N}");
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
            {
                stream.Write(System.Text.Encoding.UTF8.GetBytes(revision + "\n"));
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, Path.Combine(folder, CurrentFile), overwrite: true);
            Nexus.Interop.DirectorySync.Fsync(folder);
            Nexus.Interop.DirectorySync.Fsync(_root);
            var function = Describe(manifest, revisionDir);
            _functions[manifest.Name] = function;
            return function;
        }
    }

    private void CheckHeld(FunctionChange change, string name)
    {
        ArgumentNullException.ThrowIfNull(change);
        if (!change.IsHeldOn(this, name))
        {
            throw new InvalidOperationException($"a change of function '{name}' must be made under a change of it begun on this registry and not ended (given: '{change.Name}')");
        }
    }

    private static void WriteManifest(string folder, Func<string?, string> manifestOf)
    {
        var path = Path.Combine(folder, ManifestParser.FileName);
        string? packaged = null;
        if (File.Exists(path))
        {
            if (new FileInfo(path).Length > ManifestParser.MaxManifestBytes)
            {
                throw new ManifestException(ManifestParser.FileName, 0, "(file)", $"a manifest is at most {ManifestParser.MaxManifestBytes} bytes");
            }

            packaged = File.ReadAllText(path);
        }

        using var output = new FileStream(path, FileMode.Create, FileAccess.Write);
        output.Write(System.Text.Encoding.UTF8.GetBytes(manifestOf(packaged)));
        output.Flush(flushToDisk: true);
    }

    /// <summary>
    /// Removes a function (its CURRENT file first: from then on it does not exist); false when no such function. Under
    /// <paramref name="change"/> (of that function), or its own change.
    /// </summary>
    public bool Remove(string name, FunctionChange? change = null)
    {
        using var own = change is null ? BeginChange(name) : null;
        CheckHeld(change ?? own!, name);
        lock (_deployLock)
        {
            if (!_functions.TryRemove(name, out _))
            {
                return false;
            }

            File.Delete(Path.Combine(_root, name, CurrentFile));
            Nexus.Interop.DirectorySync.Fsync(Path.Combine(_root, name));
            return true;
        }
    }

    /// <summary>
    /// Deletes the code of <paramref name="name"/>'s revisions other than the live one (the whole folder once the
    /// function is removed). Called after the instances of older revisions stopped: their sandboxes mount that code.
    /// Returns the revisions deleted.
    /// </summary>
    public IReadOnlyList<string> Prune(string name)
    {
        lock (_deployLock)
        {
            var folder = Path.Combine(_root, name);
            _functions.TryGetValue(name, out var current);
            var pruned = Directory.Exists(folder)
                ? Directory.EnumerateDirectories(folder).Where(dir => current is null || Path.GetFullPath(dir) != Path.GetFullPath(current.CodeDirectory)).ToList()
                : [];
            if (current is null)
            {
                TryDelete(folder);
            }
            else
            {
                pruned.ForEach(TryDelete);
            }

            return [.. pruned.Select(Path.GetFileName).OfType<string>()];
        }
    }

    /// <summary>
    /// Writes the code folder <paramref name="codeDirectory"/> to <paramref name="destination"/> as a zip, its files in
    /// path order with their modification times and modes: what GetFunction's Code.Location downloads. The package as
    /// uploaded is not kept (a deploy unpacks it and drops it), so the zip is made from what the function runs.
    /// </summary>
    public static void Pack(string codeDirectory, Stream destination)
    {
        using var archive = new ZipArchive(destination, ZipArchiveMode.Create, leaveOpen: true);
        foreach (var file in CodeFiles(codeDirectory))
        {
            var entry = archive.CreateEntry(Path.GetRelativePath(codeDirectory, file.FullName).Replace(Path.DirectorySeparatorChar, '/'), CompressionLevel.Optimal);
            entry.LastWriteTime = file.LastWriteTime;
            entry.ExternalAttributes = (int)file.UnixFileMode << 16;
            using var input = file.OpenRead();
            using var output = entry.Open();
            input.CopyTo(output);
        }
    }

    private static IOrderedEnumerable<FileInfo> CodeFiles(string directory) =>
        new DirectoryInfo(directory).EnumerateFiles("*", SearchOption.AllDirectories).OrderBy(f => f.FullName, StringComparer.Ordinal);

    private static DeployedFunction Describe(FunctionManifest manifest, string directory)
    {
        var info = new DirectoryInfo(directory);
        var revision = info.Name;
        long size = 0;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in CodeFiles(directory))
        {
            size += file.Length;
            sha.AppendData(System.Text.Encoding.UTF8.GetBytes(Path.GetRelativePath(directory, file.FullName)));
            sha.AppendData(File.ReadAllBytes(file.FullName));
        }

        return new DeployedFunction(manifest, directory, revision, Convert.ToBase64String(sha.GetHashAndReset()), size, info.LastWriteTimeUtc);
    }

    // A zip made on Unix keeps the entry's st_mode in the high 16 bits of its external attributes.
    private const int UnixFileTypeMask = 0xF000;
    private const int UnixSymlinkType = 0xA000;

    // The package comes from a client: bound its size, its file count, and refuse paths that leave the folder and
    // symbolic links (unpacked as links they could point anywhere on the node; as files they would not be what was sent).
    private static void Unpack(Stream zip, string destination)
    {
        using var buffer = new MemoryStream();
        CopyBounded(zip, buffer, MaxPackageBytes, $"the package is larger than the limit of {MaxPackageBytes} bytes");
        buffer.Position = 0;
        long unpacked = 0;
        ZipArchive archive;
        try
        {
            archive = new ZipArchive(buffer, ZipArchiveMode.Read);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException("the package is not a zip archive: " + e.Message, e);
        }

        using (archive)
        {
            if (archive.Entries.Count > MaxFiles)
            {
                throw new InvalidDataException($"the package holds {archive.Entries.Count} entries; at most {MaxFiles} are allowed");
            }

            // Every entry is checked before anything is written.
            var root = Path.GetFullPath(destination) + Path.DirectorySeparatorChar;
            var paths = new PackagePaths();
            var targets = new List<(ZipArchiveEntry Entry, string Target)>(archive.Entries.Count);
            foreach (var entry in archive.Entries)
            {
                var target = Path.GetFullPath(Path.Combine(destination, entry.FullName));
                if (!target.StartsWith(root, StringComparison.Ordinal) || Path.IsPathRooted(entry.FullName))
                {
                    throw new InvalidDataException($"the package entry '{entry.FullName}' points outside the function folder");
                }

                if (((entry.ExternalAttributes >> 16) & UnixFileTypeMask) == UnixSymlinkType)
                {
                    throw new InvalidDataException($"the package entry '{entry.FullName}' is a symbolic link; a function package holds files and folders only");
                }

                paths.Add(entry.FullName, target[root.Length..], isFolder: entry.FullName.EndsWith('/'));
                targets.Add((entry, target));
            }

            foreach (var (entry, target) in targets)
            {
                if (entry.FullName.EndsWith('/'))
                {
                    Directory.CreateDirectory(target);
                    continue;
                }

                Directory.CreateDirectory(Path.GetDirectoryName(target)!);
                using var input = entry.Open();
                using var output = new FileStream(target, FileMode.CreateNew, FileAccess.Write);
                unpacked += CopyBounded(input, output, MaxUnpackedBytes - unpacked, $"the unpacked function folder is larger than the limit of {MaxUnpackedBytes} bytes");

                // A deploy the caller saw succeed must survive a crash.
                output.Flush(flushToDisk: true);
            }
        }
    }

    /// <summary>
    /// The paths a package's entries name, each at most once. Two entries of one path (a name zipped twice, or one
    /// path written two ways: <c>./a.py</c> and <c>a.py</c>, <c>a/</c> and <c>a</c>), or a file that another entry
    /// puts a file or folder inside, leave what the function runs to the order of the unpacking (before, the second
    /// failed to write and the deploy answered 500): the package is refused naming both entries, as Lambda refuses an
    /// ambiguous zip.
    /// </summary>
    private sealed class PackagePaths
    {
        // The relative path (normalized: "./", "//" and "x/.." resolved, no trailing slash) -> the entry that named it
        // (or, for a folder only implied by its contents, the first entry inside it) and whether it is a folder.
        private readonly Dictionary<string, (string Entry, bool Folder, bool Named)> _paths = new(StringComparer.Ordinal);

        public void Add(string entry, string relative, bool isFolder)
        {
            relative = relative.TrimEnd(Path.DirectorySeparatorChar);
            for (var slash = relative.IndexOf(Path.DirectorySeparatorChar); slash > 0; slash = relative.IndexOf(Path.DirectorySeparatorChar, slash + 1))
            {
                var parent = relative[..slash];
                if (!_paths.TryGetValue(parent, out var existing))
                {
                    _paths[parent] = (entry, true, false);
                }
                else if (!existing.Folder)
                {
                    throw new InvalidDataException($"the package entry '{entry}' is inside '{parent}', which the entry '{existing.Entry}' makes a file; a package names each file and folder once");
                }
            }

            if (_paths.TryGetValue(relative, out var named) && (named.Named || !isFolder))
            {
                throw new InvalidDataException(named.Named
                    ? $"the package entries '{named.Entry}' and '{entry}' both name '{relative}'; a package names each file and folder once"
                    : $"the package entry '{entry}' makes '{relative}' a file, and the entry '{named.Entry}' is inside it; a package names each file and folder once");
            }

            _paths[relative] = (entry, isFolder, true);
        }
    }

    private static long CopyBounded(Stream input, Stream output, long limit, string tooLarge)
    {
        var chunk = new byte[81920];
        long total = 0;
        int n;
        while ((n = input.Read(chunk)) > 0)
        {
            total += n;
            if (total > limit)
            {
                throw new InvalidDataException(tooLarge);
            }

            output.Write(chunk, 0, n);
        }

        return total;
    }

    private static void TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
        catch (IOException)
        {
            // A half-deleted old revision is removed by the next Load.
        }
    }
}
