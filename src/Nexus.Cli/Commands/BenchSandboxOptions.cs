// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using Nexus.Node;

namespace Nexus.Cli.Commands;

/// <summary>`--sandbox oci|microvm` and `--kernel` of the benchmarks that run the examples on a private node.</summary>
public sealed class BenchSandboxOptions
{
    private readonly Option<string> _sandbox;
    private readonly Option<FileInfo?> _kernel = new("--kernel") { Description = "microvm: the guest kernel (default: microvmKernel of node.json; guest/kernel/build.sh prints it)" };

    /// <param name="what">What runs in the microVMs, for the option's description.</param>
    public BenchSandboxOptions(string what) =>
        _sandbox = new("--sandbox") { Description = $"oci (runc) or microvm ({what} in Linux microVMs, one nexus-vmm each)", DefaultValueFactory = _ => "oci" };

    public void AddTo(Command command)
    {
        command.Options.Add(_sandbox);
        command.Options.Add(_kernel);
    }

    /// <summary>
    /// The Linux guest kernel the command's microVMs boot, or null for oci; a bad `--sandbox` or a missing kernel throws
    /// <see cref="ArgumentException"/> saying which.
    /// </summary>
    public string? GuestKernel(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        switch (parse.GetValue(_sandbox))
        {
            case "oci":
                return null;
            case "microvm":
                var kernel = parse.GetValue(_kernel)?.FullName ?? NodeOptions.Load().MicrovmKernel;
                return kernel is not null && File.Exists(kernel)
                    ? kernel
                    : throw new ArgumentException($"--sandbox microvm needs the guest kernel: pass --kernel (the vmlinux guest/kernel/build.sh prints) or set microvmKernel in node.json{(kernel is null ? "" : $" ({kernel} does not exist)")}");
            case var other:
                throw new ArgumentException($"--sandbox must be oci or microvm, not '{other}'");
        }
    }

    /// <summary>
    /// <see cref="GuestKernel"/> for a command's action: false, with the error on stderr, when the options are wrong (the
    /// action then exits 2 before any node starts).
    /// </summary>
    public bool TryGetGuestKernel(ParseResult parse, out string? guestKernel)
    {
        try
        {
            guestKernel = GuestKernel(parse);
            return true;
        }
        catch (ArgumentException e)
        {
            Console.Error.WriteLine("error: " + e.Message);
            guestKernel = null;
            return false;
        }
    }

    /// <summary>The node's options with every function in a Linux microVM of <paramref name="guestKernel"/> (unchanged when null).</summary>
    public static NodeOptions Apply(NodeOptions node, string? guestKernel)
    {
        ArgumentNullException.ThrowIfNull(node);
        return guestKernel is null ? node : node with { Driver = "microvm", MicrovmKernel = guestKernel, MicrovmGuest = "linux" };
    }
}
