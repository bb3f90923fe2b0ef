// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Text;
using Nexus.Interop;

namespace Nexus.Vmm.VState;

/// <summary>
/// The exits of one vCPU that reached this process (<c>KVM_RUN</c> returns): by KVM exit reason, I/O exits by port,
/// MMIO exits by 4 KiB page, and returns without an exit (a kick: EINTR). Written by the vCPU thread alone; read it once
/// the VM stopped. What KVM handles in the kernel never appears here (on kvm_pvm: guest page faults, hypercalls,
/// trapped privileged instructions, the vIF doorbell).
/// </summary>
public sealed class ExitCounts
{
    private readonly Dictionary<uint, long> _byReason = [];
    private readonly Dictionary<ushort, long> _ioPorts = [];
    private readonly Dictionary<ulong, long> _mmioPages = [];

    /// <summary>Returns from KVM_RUN without an exit: a pause or a stop kicked the vCPU out.</summary>
    public long Kicks { get; private set; }

    /// <summary>Exits of every reason.</summary>
    public long Total => _byReason.Values.Sum();

    internal void Add(uint reason) => _byReason[reason] = _byReason.GetValueOrDefault(reason) + 1;

    internal void AddIo(ushort port) => _ioPorts[port] = _ioPorts.GetValueOrDefault(port) + 1;

    internal void AddMmio(ulong address) => _mmioPages[address & ~0xfffUL] = _mmioPages.GetValueOrDefault(address & ~0xfffUL) + 1;

    internal void AddKick() => Kicks++;

    /// <summary>The sum of several vCPUs' (or VMs') counts.</summary>
    public static ExitCounts Sum(IEnumerable<ExitCounts> counts)
    {
        ArgumentNullException.ThrowIfNull(counts);
        var sum = new ExitCounts();
        foreach (var c in counts)
        {
            Merge(sum._byReason, c._byReason);
            Merge(sum._ioPorts, c._ioPorts);
            Merge(sum._mmioPages, c._mmioPages);
            sum.Kicks += c.Kicks;
        }

        return sum;
    }

    /// <summary>One line per reason, most frequent first, I/O and MMIO split by port and page (divided by <paramref name="per"/>: e.g. per boot).</summary>
    public string Format(int per = 1)
    {
        var text = new StringBuilder();
        string N(long n) => per == 1 ? n.ToString(CultureInfo.InvariantCulture) : (n / (double)per).ToString("0.#", CultureInfo.InvariantCulture);
        text.Append(CultureInfo.InvariantCulture, $"exits to the VMM: {N(Total)}");
        foreach (var (reason, n) in _byReason.OrderByDescending(r => r.Value))
        {
            text.Append(CultureInfo.InvariantCulture, $"\n  {ReasonName(reason),-22} {N(n),10}");
            var split = reason switch
            {
                KvmExit.KVM_EXIT_IO => _ioPorts.Select(p => (string.Create(CultureInfo.InvariantCulture, $"port 0x{p.Key:x}"), p.Value)),
                KvmExit.KVM_EXIT_MMIO => _mmioPages.Select(p => (string.Create(CultureInfo.InvariantCulture, $"page 0x{p.Key:x}"), p.Value)),
                _ => [],
            };
            foreach (var (what, count) in split.OrderByDescending(s => s.Value))
            {
                text.Append(CultureInfo.InvariantCulture, $"\n    {what,-20} {N(count),10}");
            }
        }

        text.Append(CultureInfo.InvariantCulture, $"\n  {"kicks (EINTR)",-22} {N(Kicks),10}");
        return text.ToString();
    }

    private static string ReasonName(uint reason) => reason switch
    {
        KvmExit.KVM_EXIT_IO => "KVM_EXIT_IO",
        KvmExit.KVM_EXIT_HLT => "KVM_EXIT_HLT",
        KvmExit.KVM_EXIT_MMIO => "KVM_EXIT_MMIO",
        KvmExit.KVM_EXIT_SHUTDOWN => "KVM_EXIT_SHUTDOWN",
        KvmExit.KVM_EXIT_FAIL_ENTRY => "KVM_EXIT_FAIL_ENTRY",
        KvmExit.KVM_EXIT_INTERNAL_ERROR => "KVM_EXIT_INTERNAL_ERROR",
        KvmExit.KVM_EXIT_SYSTEM_EVENT => "KVM_EXIT_SYSTEM_EVENT",
        _ => string.Create(CultureInfo.InvariantCulture, $"reason {reason}"),
    };

    private static void Merge<TKey>(Dictionary<TKey, long> into, Dictionary<TKey, long> from)
        where TKey : notnull
    {
        foreach (var (key, n) in from)
        {
            into[key] = into.GetValueOrDefault(key) + n;
        }
    }
}
