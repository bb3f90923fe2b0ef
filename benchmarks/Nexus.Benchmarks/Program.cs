// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Nexus.Benchmarks -- --filter '*'   (docs/benchmarks.md)
// The generated benchmark project is built per run; on a loaded shared machine that takes longer than the default 2 minutes.
BenchmarkSwitcher.FromAssembly(typeof(Nexus.Benchmarks.ChannelBenchmarks).Assembly)
    .Run(args, ManualConfig.Create(DefaultConfig.Instance).WithBuildTimeout(TimeSpan.FromMinutes(15)));
