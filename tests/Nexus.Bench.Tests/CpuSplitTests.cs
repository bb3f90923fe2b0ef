// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.Density;

namespace Nexus.Bench.Tests;

public sealed class CpuSplitTests
{
    // Shaped like `perf script -F comm,tid,ip,sym,dso` output for a .NET process with a perf map.
    private const string PerfScript = """
        .NET TP Worker  8030/8031  
        	ffffffff81440727 copy_user_generic ([kernel.kallsyms])
        	    7ff9c2ca4852 void [Nexus.Interop] Nexus.Interop.Libc::Write(int32)[Optimized] (/tmp/perf-8104.map)
        	    7ff9c2ca4860 instance bool [Nexus.Store] Nexus.Store.ObjectStore+<PutAsync>d__12::MoveNext()[Optimized] (/tmp/perf-8104.map)
        	    7ff9c2ca4870 instance void [System.Private.CoreLib] System.Threading.ThreadPoolWorkQueue::Dispatch()[Optimized] (/tmp/perf-8104.map)

        .NET TP Worker  8030/8032  
        	    7f21162f2ad7 WKS::gc_heap::mark_phase(int) (/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so)
        	    7ff9c2ca5000 instance class [System.Runtime]System.String [Nexus.Backend] Nexus.Backend.InstanceSession::Decode(class [Nexus.Store]Nexus.Store.ObjectStore)[Optimized] (/tmp/perf-8104.map)

        .NET TP Worker  8030/8033  
        	    7ff9c2ca6000 instance void [AWSSDK.Core] Amazon.Runtime.Internal.Util.ChunkedUploadWrapperStream::Read()[Optimized] (/tmp/perf-8104.map)
        	    7ff9c2ca4870 instance void [System.Private.CoreLib] System.Threading.ThreadPoolWorkQueue::Dispatch()[Optimized] (/tmp/perf-8104.map)

        dotnet  8030/8030  
        	    7ff9c2ca7000 instance void [Nexus.Bench] Nexus.Bench.Replay.Replayer+<RunAsync>d__3::MoveNext()[Optimized] (/tmp/perf-8104.map)

        .NET BGC  8030/8034  
        	    7f21162f2ad7 WKS::gc_heap::background_mark_phase() (/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libcoreclr.so)

        .NET Tiered  8030/8035  
        	    7f21162f2ad7 Compiler::compCompile() (/usr/share/dotnet/shared/Microsoft.NETCore.App/10.0.12/libclrjit.so)

        swapper  8030/8036  
        	ffffffff81440727 do_idle ([kernel.kallsyms])

        .NET TP Worker  8030/8037  
        	ffffffff8200f548 tcp_recvmsg_locked ([kernel.kallsyms])
        	ffffffff821ecc51 do_syscall_64 ([kernel.kallsyms])
        	          10a974 __libc_recv (/usr/lib/x86_64-linux-gnu/libc.so.6)

        .NET TP Worker  8030/8038  
        	    7ff9c2ca9000 [unknown] (/usr/share/dotnet/shared/Microsoft.AspNetCore.App/10.0.12/Microsoft.AspNetCore.Server.Kestrel.Core.dll)

        runc  9001/9001  
        	    7ff9c2ca4860 instance bool [Nexus.Store] Nexus.Store.ObjectStore+<PutAsync>d__12::MoveNext()[Optimized] (/tmp/perf-8104.map)
        """;

    [Fact]
    public void ParsesOneFrameListPerSampleLeafFirst()
    {
        var stacks = CpuSplit.ParseStacks(new StringReader(PerfScript)).ToList();
        Assert.Equal(10, stacks.Count);
        Assert.Equal(9, CpuSplit.ParseStacks(new StringReader(PerfScript), pid: 8030).Count());
        Assert.Equal(4, stacks[0].Count);
        Assert.Equal("copy_user_generic ([kernel.kallsyms])", stacks[0][0]);
        Assert.StartsWith("instance bool [Nexus.Store] Nexus.Store.ObjectStore", stacks[0][2], StringComparison.Ordinal);
    }

    [Fact]
    public void InnermostNexusFrameDecides_InteropIsSkipped_GcCountsForItsCaller()
    {
        var components = CpuSplit.ParseStacks(new StringReader(PerfScript), pid: 8030).Select(CpuSplit.ComponentOf).ToList();
        Assert.Equal(
            [CpuSplit.Store, CpuSplit.Backend, CpuSplit.Backend, CpuSplit.Driver, CpuSplit.Gc, CpuSplit.Jit, CpuSplit.Other,
             CpuSplit.KernelSockets, CpuSplit.HttpServer],
            components);
    }

    [Fact]
    public void OwnerTypeIgnoresReturnAndParameterTypes()
    {
        Assert.Equal(
            "Nexus.Backend.InstanceSession",
            CpuSplit.OwnerType("instance class [System.Runtime]System.String [Nexus.Backend] Nexus.Backend.InstanceSession::Decode(class [Nexus.Store]Nexus.Store.ObjectStore)[Optimized] (/tmp/perf-1.map)"));
        Assert.Null(CpuSplit.OwnerType("copy_user_generic ([kernel.kallsyms])"));
        Assert.Null(CpuSplit.OwnerType("WKS::gc_heap::mark_phase(int) (libcoreclr.so)"));
    }

    [Fact]
    public void SplitDividesProcessCpuBySampleShare()
    {
        var split = CpuSplit.Split(new Dictionary<string, int> { [CpuSplit.Store] = 30, [CpuSplit.Backend] = 10, [CpuSplit.Gc] = 0 }, processCpuSeconds: 8);
        Assert.Equal(2, split.Count);
        Assert.Equal(CpuSplit.Store, split[0].Component);
        Assert.Equal(6.0, split[0].CpuSeconds, 9);
        Assert.Equal(0.25, split[1].Share, 9);
    }
}
