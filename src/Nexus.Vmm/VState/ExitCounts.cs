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
    /// <summary>
    /// Distinct ports and pages counted one by one; the guest chooses them (an MMIO exit to each page of the address
    /// space is a few instructions away), so past this many the rest share one count and the VMM's memory stays bounded.
    /// </summary>
    internal const int MaxDistinct = 64;

    private readonly Dictionary<uint, long> _byReason = [];
    private readonly Dictionary<ushort, long> _ioPorts = [];
    private readonly Dictionary<ulong, long> _mmioPages = [];

    /// <summary>Returns from KVM_RUN without an exit: a pause or a stop kicked the vCPU out.</summary>
    public long Kicks { get; private set; }

    /// <summary>Exits of every reason.</summary>
    public long Total => _byReason.Values.Sum();

    internal void Add(uint reason) => _byReason[reason] = _byReason.GetValueOrDefault(reason) + 1;

    /// <summary>I/O exits to ports beyond the first <see cref="MaxDistinct"/> seen.</summary>
    public long OtherPorts { get; private set; }

    /// <summary>MMIO exits to pages beyond the first <see cref="MaxDistinct"/> seen.</summary>
    public long OtherPages { get; private set; }

    internal void AddIo(ushort port) => OtherPorts += Count(_ioPorts, port);

    internal void AddMmio(ulong address) => OtherPages += Count(_mmioPages, address & ~0xfffUL);

    // Counts the key if it is counted already or there is room for it; 1 when it goes to the shared count instead.
    private static long Count<TKey>(Dictionary<TKey, long> counts, TKey key)
        where TKey : notnull
    {
        if (counts.TryGetValue(key, out var n) || counts.Count < MaxDistinct)
        {
            counts[key] = n + 1;
            return 0;
        }

        return 1;
    }

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
            sum.OtherPorts += c.OtherPorts;
            sum.OtherPages += c.OtherPages;
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
                KvmExit.KVM_EXIT_IO => _ioPorts.Select(p => (string.Create(CultureInfo.InvariantCulture, $"port 0x{p.Key:x}"), p.Value)).Append(("other ports", OtherPorts)),
                KvmExit.KVM_EXIT_MMIO => _mmioPages.Select(p => (string.Create(CultureInfo.InvariantCulture, $"page 0x{p.Key:x}"), p.Value)).Append(("other pages", OtherPages)),
                _ => [],
            };
            foreach (var (what, count) in split.Where(s => s.Item2 > 0).OrderByDescending(s => s.Item2))
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
