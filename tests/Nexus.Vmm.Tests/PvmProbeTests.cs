// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text;
using Nexus.Testing;
using Nexus.Vmm.Builder;
using Nexus.Vmm.VState;
using Xunit.Abstractions;

namespace Nexus.Vmm.Tests;

/// <summary>
/// guest/test/pvmprobe.c asks the host's KVM for the PVM guest ABI (detection, PVM MSRs, PVCS, event entry,
/// hypercalls) and records how user mode and events behave; these tests pin what it establishes (docs/vmm.md,
/// "PVM guest ABI of this host"), entered both in 64-bit mode by the VMM and through PVH with the guest switching to
/// long mode itself.
/// </summary>
public sealed class PvmProbeTests(ITestOutputHelper output)
{
    private const string SupervisorPageFault = "vector 0xe from cs 0x2b";

    [KvmTheory]
    [InlineData(BootProtocol.Linux64)]
    [InlineData(BootProtocol.Pvh)]
    public void HostOffersNoPublicPvmGuestAbi(BootProtocol protocol)
    {
        var facts = Run(protocol);
        Assert.Equal(protocol == BootProtocol.Pvh ? "pvh, long mode entered by the guest" : "64-bit, long mode set by the VMM", facts["entry"]);

        // The VMM installs the KVM paravirt leaves (the detection a PVM guest starts with needs them), and the PVM
        // synthetic CPUID sequence at CPL 0 answers exactly what plain CPUID does.
        Assert.Equal("0x40000001 0x4b4d564b 0x564b4d56 0x4d \"KVMKVMKVM...\"", facts["plain cpuid 0x40000000"]);
        Assert.StartsWith("0x1007efb ", facts["plain cpuid 0x40000001"], StringComparison.Ordinal);
        Assert.DoesNotContain(" 0x4d5650 ", " " + facts["plain cpuid 0x40000002"], StringComparison.Ordinal); // no "PVM" in EBX
        foreach (var leaf in new[] { "0x40000000", "0x40000001", "0x40000002" })
        {
            Assert.Equal(facts[$"plain cpuid {leaf}"], facts[$"synthetic cpuid {leaf}"]);
        }

        // KVM's own PV MSRs answer; every PVM MSR (0x4b564df0-ff) faults, read or written.
        Assert.DoesNotContain("fault", facts["rdmsr 0x4b564d00"], StringComparison.Ordinal);
        for (var msr = 0x4b564df0u; msr <= 0x4b564dffu; msr++)
        {
            Assert.Equal("fault 0xd", facts[$"rdmsr 0x{msr:x}"]);
        }

        Assert.Equal("fault 0xd", facts["wrmsr MSR_PVM_VCPU_STRUCT"]);
        Assert.Equal("fault 0xd", facts["wrmsr MSR_PVM_EVENT_ENTRY"]);
        Assert.Equal("fault 0xd", facts["wrmsr MSR_PVM_RETU_RIP"]);

        // A PVM hypercall number in RAX makes no difference: SYSCALL at CPL 0 is a plain SYSCALL to LSTAR.
        Assert.Equal("arrived at LSTAR, cs 0x8", facts["hypercall PVM_HC_IRQ_WIN"]);
        Assert.Equal("arrived at LSTAR, cs 0x8", facts["hypercall PVM_HC_TLB_FLUSH_CURRENT"]);
        Assert.Equal("arrived at LSTAR, cs 0x8", facts["supervisor syscall 39"]);

        // Events from user mode reach the guest's IDT with the guest's user CS, as on hardware.
        Assert.StartsWith("vector 0x6 from cs 0x2b", facts["user ud2"], StringComparison.Ordinal);
        Assert.StartsWith("vector 0xd from cs 0x2b", facts["user rdmsr"], StringComparison.Ordinal);
        Assert.StartsWith(SupervisorPageFault, facts["user read of a supervisor page"], StringComparison.Ordinal);
        Assert.Contains("err 0x5 cr2 0xffffffff80100000", facts["user read of a supervisor page"], StringComparison.Ordinal);
        Assert.StartsWith("vector 0x40 from cs 0x2b", facts["user spin with IF set, LAPIC timer armed"], StringComparison.Ordinal);
        Assert.Equal("0x40000001 0x4b4d564b", facts["user cpuid 0x40000000"]);
        Assert.StartsWith("vector 0xd from cs 0x2b", facts["user synthetic cpuid"], StringComparison.Ordinal);
        Assert.Equal("0x0", facts["pvm event entry reached"]);

        if (Nexus.Interop.Kvm.IsSoftwareOnly())
        {
            // kvm_pvm: supervisor code is emulated (it reads its own CS 0x08, IF as loaded); user code runs natively in hardware
            // ring 3 (it reads the host's user CS 0x33 and IF set although IRETQ loaded 0x2); SYSCALL from user mode
            // jumps to LSTAR without leaving user mode (a supervisor-only LSTAR page is a user page fault at LSTAR);
            // INT n from user mode is #UD.
            Assert.Equal("0x8", facts["cs"]);
            Assert.Equal(0UL, Convert.ToUInt64(facts["rflags"], 16) & 0x200); // IF clear: no underlying ring 3 either
            Assert.Equal("0x33", facts["user cs"]);
            Assert.Equal("0x202", facts["user rflags"]);
            Assert.StartsWith("arrived at LSTAR cs 0x33 ", facts["user syscall, LSTAR on a user page"], StringComparison.Ordinal);
            var fault = facts["user syscall, LSTAR on a supervisor page"];
            Assert.StartsWith(SupervisorPageFault + " rip 0xffffffff801", fault, StringComparison.Ordinal);
            Assert.Contains("err 0x5 cr2 0xffffffff801", fault, StringComparison.Ordinal);
            Assert.StartsWith(SupervisorPageFault, facts["user syscall RAX=PVM_HC_IRQ_WIN"], StringComparison.Ordinal);
            Assert.StartsWith("vector 0x6 from cs 0x2b", facts["user int 0x80"], StringComparison.Ordinal);
        }
        else
        {
            // Hardware virtualization: architectural behaviour.
            Assert.Equal("0x2b", facts["user cs"]);
            Assert.StartsWith("arrived at LSTAR cs 0x8 ", facts["user syscall, LSTAR on a supervisor page"], StringComparison.Ordinal);
            Assert.StartsWith("vector 0x80 from cs 0x2b", facts["user int 0x80"], StringComparison.Ordinal);
        }
    }

    /// <summary>
    /// The probe's "pvlite" mode: this host's kvm_pvm answers its own variant's detection, hypercalls and CPUID, and
    /// once the guest registers a vIF page it runs the guest's supervisor code natively (in hardware ring 3, so CS
    /// reads the host's user selector 0x33) instead of emulating each instruction.
    /// </summary>
    [PvLiteFact]
    public void HostRunsSupervisorCodeNativelyOnceAVifPageIsRegistered()
    {
        var facts = Run(BootProtocol.Linux64, "pvlite");
        var vif = Convert.ToUInt64(facts["rdmsr 0x4b564d10"], 16); // read back after the registration
        Assert.True((vif & 1) == 1 && (vif & ~0xfffUL) != 0, $"vIF MSR read back as 0x{vif:x}");
        Assert.Equal("0x4d5650", facts["rdmsr 0x4b564d11"]); // "PVM"
        Assert.Equal("0x1ff", facts["rdmsr 0x4b564d12"]); // every feature: the VM may run natively
        Assert.Equal("0x40000001 0x4b4d564b 0x564b4d56 0x4d ", facts["int 0x1a cpuid 0x40000000"]);
        Assert.Equal("returned rax 0xffffffffffffffda", facts["int 0x1b PVLITE_HC_LOAD_TR"]); // -ENOSYS
        Assert.Equal("returned rax 0x0", facts["int 0x1b PVLITE_HC_FLUSH_TLB"]);
        Assert.Equal("ok", facts["wrmsr MSR_PVLITE_VIF"]);
        Assert.Equal("0x33", facts["cs after vif"]);

        var emulated = Ticks(facts["kspin before vif"]);
        var native = Ticks(facts["kspin after vif"]);
        output.WriteLine($"kspin: {emulated} ticks emulated, {native} native ({(double)emulated / native:0}x)");
        Assert.True(native * 50 < emulated, $"supervisor code after the vIF registration ran {native} ticks against {emulated} before: not native");
    }

    /// <summary>The TSC ticks at the end of a timing line's value ("4000000 instructions, TSC ticks: 0x...").</summary>
    private static ulong Ticks(string value) => Convert.ToUInt64(value[(value.LastIndexOf(' ') + 1)..], 16);

    /// <summary>Boots the probe; returns its "key: value" lines (it must have run to the end).</summary>
    private Dictionary<string, string> Run(BootProtocol protocol, string? mode = null)
    {
        var console = new StringBuilder();
        using var vm = MicroVm.Boot(new VmConfig
        {
            KernelPath = TestGuests.Build("pvmprobe"),
            MemoryMiB = 32,
            Protocol = protocol,
            BootArgs = mode,
            ConsoleOutput = b => console.Append((char)b),
        });
        vm.Start();
        var exit = vm.WaitForExit(TimeSpan.FromSeconds(60));
        output.WriteLine(console.ToString());
        Assert.True(exit is { Kind: VmExitKind.ExitPort, Code: 1 }, $"{exit}; console:\n{console}");
        var facts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in console.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(": ", StringComparison.Ordinal);
            if (colon > 0)
            {
                facts[line[..colon]] = line[(colon + 2)..];
            }
        }

        Assert.Contains("done", console.ToString().Split('\n'));
        return facts;
    }
}
