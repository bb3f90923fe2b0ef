// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Xunit;

namespace Nexus.Testing;

/// <summary>
/// What an integration test needs from the host, and where the real tools are.
/// Tests that cannot run here are skipped with the reason, never silently passed.
/// </summary>
public static class HostRequirements
{
    /// <summary>Debian's python3 (has python3-boto3); the PATH python may be a pyenv one without it.</summary>
    public const string DebianPython = "/usr/bin/python3";

    /// <summary>Debian's AWS CLI.</summary>
    public const string AwsCli = "/usr/bin/aws";

    public static bool IsRoot => Environment.UserName == "root";

    public static bool HasRunc => FindOnPath("runc") is not null;

    public static bool HasKvm => File.Exists("/dev/kvm");

    public static string? FindOnPath(string tool) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Append("/usr/sbin").Append("/sbin")
            .Select(dir => Path.Combine(dir, tool))
            .FirstOrDefault(File.Exists);

    /// <summary>The repository root (the folder holding Nexus.slnx).</summary>
    public static string RepoRoot
    {
        get
        {
            for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "Nexus.slnx")))
                {
                    return dir.FullName;
                }
            }

            throw new InvalidOperationException("Nexus.slnx not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>
    /// The one-VM executable's JIT build, src/Nexus.Vmm.Host/bin/&lt;the tests' configuration&gt;/net10.0/nexus-vmm.dll
    /// (a test project builds it by a ProjectReference without referencing its assembly).
    /// </summary>
    public static string VmmHostDll
    {
        get
        {
            var bin = Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory))!;
            return Path.Combine(RepoRoot, "src", "Nexus.Vmm.Host", "bin", Path.GetFileName(bin), "net10.0", "nexus-vmm.dll");
        }
    }

    /// <summary>Null when every named requirement is met, else the reason a test must skip.</summary>
    public static string? Missing(bool root = false, bool runc = false, bool kvm = false, bool debianBoto3 = false, bool awsCli = false)
    {
        var missing = new List<string>();
        if (root && !IsRoot)
        {
            missing.Add("root (namespaces, cgroups, runc)");
        }

        if (runc && !HasRunc)
        {
            missing.Add("runc (apt-get install runc)");
        }

        if (kvm && !HasKvm)
        {
            missing.Add("/dev/kvm");
        }

        if (debianBoto3 && !File.Exists("/usr/lib/python3/dist-packages/boto3/__init__.py"))
        {
            missing.Add("Debian python3-boto3 (apt-get install python3-boto3)");
        }

        if (awsCli && !File.Exists(AwsCli))
        {
            missing.Add("the AWS CLI (apt-get install awscli)");
        }

        return missing.Count == 0 ? null : "needs " + string.Join(", ", missing);
    }
}

/// <summary>A fact that skips, saying why, when the host lacks root or runc.</summary>
public sealed class RootFactAttribute : FactAttribute
{
    public RootFactAttribute(bool runc = true, bool awsCli = false, bool kvm = false)
    {
        Skip = HostRequirements.Missing(root: true, runc: runc, kvm: kvm, awsCli: awsCli);
    }
}

/// <summary>A theory that skips, saying why, when the host lacks root or runc.</summary>
public sealed class RootTheoryAttribute : TheoryAttribute
{
    public RootTheoryAttribute(bool runc = true)
    {
        Skip = HostRequirements.Missing(root: true, runc: runc);
    }
}

/// <summary>A fact that skips, saying why, when /dev/kvm is absent.</summary>
public sealed class KvmFactAttribute : FactAttribute
{
    public KvmFactAttribute()
    {
        Skip = HostRequirements.Missing(kvm: true);
    }
}

/// <summary>A theory that skips, saying why, when /dev/kvm is absent.</summary>
public sealed class KvmTheoryAttribute : TheoryAttribute
{
    public KvmTheoryAttribute()
    {
        Skip = HostRequirements.Missing(kvm: true);
    }
}

/// <summary>
/// A fact about kvm_pvm's own guest ABI (pv-lite, docs/vmm.md): skips, saying why, without /dev/kvm or where /dev/kvm is
/// not kvm_pvm (hardware KVM has no such ABI).
/// </summary>
public sealed class PvLiteFactAttribute : FactAttribute
{
    public PvLiteFactAttribute()
    {
        Skip = HostRequirements.Missing(kvm: true)
            ?? (Directory.Exists(Nexus.Interop.Kvm.PvmModulePath) ? null : "needs kvm_pvm (pv-lite is its guest ABI; this /dev/kvm is not it)");
    }
}

/// <summary>A fact that needs Debian's python3-boto3 and the AWS CLI (the real S3 clients).</summary>
public sealed class RealClientsFactAttribute : FactAttribute
{
    public RealClientsFactAttribute()
    {
        Skip = HostRequirements.Missing(debianBoto3: true, awsCli: true);
    }
}

/// <summary>
/// A theory that skips, saying why, without root and runc or where the kernel gives no transparent huge pages on
/// request (/sys/kernel/mm/transparent_hugepage/enabled set to never, or absent).
/// </summary>
public sealed class HugePagesTheoryAttribute : TheoryAttribute
{
    public const string Control = "/sys/kernel/mm/transparent_hugepage/enabled";

    public HugePagesTheoryAttribute()
    {
        Skip = HostRequirements.Missing(root: true, runc: true)
            ?? (File.Exists(Control) && !File.ReadAllText(Control).Contains("[never]", StringComparison.Ordinal)
                ? null
                : $"needs transparent huge pages on request ({Control}: madvise or always)");
    }
}
