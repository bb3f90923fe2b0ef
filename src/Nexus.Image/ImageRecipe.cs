// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Nexus.Image;

/// <summary>
/// What goes into an image, and the content hashes that key the two cache levels:
/// the base rootfs (debootstrap inputs) and the function image (base hash + runtime files).
/// </summary>
internal static class ImageRecipe
{
    public const string Suite = "bookworm";

    public const string Variant = "minbase";

    /// <summary>Bump when the base build or its finishing steps change, so old bases are not reused.</summary>
    public const int BaseRecipeVersion = 2;

    /// <summary>Bump when how runtime files are laid into the image changes.</summary>
    public const int ImageRecipeVersion = 1;

    public static readonly IReadOnlyList<string> Packages = ["python3-minimal", "python3", "python3-boto3", "python3-pil", "python3-numpy"];

    /// <summary>Folders and files of runtime/ that never go into an image.</summary>
    private static readonly HashSet<string> s_excludedNames = new(StringComparer.Ordinal) { "__pycache__", "tests", "difftests" };

    /// <summary>Debian's name for the host architecture (debootstrap builds for the host).</summary>
    public static string DebianArchitecture => RuntimeInformation.OSArchitecture switch
    {
        Architecture.X64 => "amd64",
        Architecture.Arm64 => "arm64",
        var other => other.ToString().ToLowerInvariant(),
    };

    public static string BaseHash(string mirror) => Sha256Hex(string.Join('\n',
        "nexus-base",
        "recipe=" + BaseRecipeVersion,
        "suite=" + Suite,
        "variant=" + Variant,
        "arch=" + DebianArchitecture,
        "packages=" + string.Join(',', Packages.Order(StringComparer.Ordinal)),
        "mirror=" + mirror));

    public static string ImageHash(string baseHash, string runtimeHash) => Sha256Hex(string.Join('\n',
        "nexus-image",
        "recipe=" + ImageRecipeVersion,
        "base=" + baseHash,
        "runtime=" + runtimeHash));

    /// <summary>Hash of every runtime file that goes into the image: its place in the image and its bytes.</summary>
    public static string RuntimeHash(IReadOnlyList<RuntimeFile> files)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in files)
        {
            var content = SHA256.HashData(File.ReadAllBytes(file.SourcePath));
            hash.AppendData(Encoding.UTF8.GetBytes($"{file.ImagePath}\0{Convert.ToHexStringLower(content)}\n"));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>
    /// The files of <paramref name="runtimeDirectory"/> and where each goes. A top-level folder that is a Python package
    /// (nexus_runtime) goes to /opt/nexus/runtime/&lt;name&gt;; a folder that is not is an import root whose contents are
    /// laid out as they are: frontend (the stand-in boto3/botocore) at /opt/nexus/frontend, any other
    /// (nexus_channel/nexus_channel) at /opt/nexus/runtime. Sorted by image path so the hash does not depend on
    /// directory enumeration order.
    /// </summary>
    public static IReadOnlyList<RuntimeFile> RuntimeFiles(string runtimeDirectory)
    {
        if (!File.Exists(Path.Combine(runtimeDirectory, "nexus_runtime", "__main__.py")))
        {
            throw new ImageBuildException(
                $"runtime files not found: '{runtimeDirectory}' has no nexus_runtime/__main__.py (the build copies the repository's "
                + "runtime/ folder next to the binaries; point ImageOptions.RuntimeSourceDirectory at it)");
        }

        var files = new Dictionary<string, RuntimeFile>(StringComparer.Ordinal);
        foreach (var top in Directory.EnumerateDirectories(runtimeDirectory).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(top);
            if (IsExcluded(name))
            {
                continue;
            }

            var target = File.Exists(Path.Combine(top, "__init__.py")) ? "opt/nexus/runtime/" + name
                : name == "frontend" ? "opt/nexus/frontend"
                : "opt/nexus/runtime";
            foreach (var path in Directory.EnumerateFiles(top, "*", SearchOption.AllDirectories))
            {
                var relative = Path.GetRelativePath(top, path).Replace(Path.DirectorySeparatorChar, '/');
                if (relative.Split('/').Any(IsExcluded) || relative.EndsWith(".pyc", StringComparison.Ordinal))
                {
                    continue;
                }

                var imagePath = target + "/" + relative;
                if (files.TryGetValue(imagePath, out var other))
                {
                    throw new ImageBuildException($"runtime files '{other.SourcePath}' and '{path}' would both go to /{imagePath} in the image");
                }

                files.Add(imagePath, new RuntimeFile(path, imagePath));
            }
        }

        return [.. files.Values.OrderBy(f => f.ImagePath, StringComparer.Ordinal)];
    }

    private static bool IsExcluded(string name) => name.StartsWith('.') || s_excludedNames.Contains(name);

    private static string Sha256Hex(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}

/// <summary>One runtime file: where it is on the host, and its path inside the rootfs (relative, '/'-separated).</summary>
internal sealed record RuntimeFile(string SourcePath, string ImagePath);
