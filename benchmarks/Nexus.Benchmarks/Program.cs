// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/Nexus.Benchmarks -- --filter '*'   (docs/benchmarks.md)
BenchmarkSwitcher.FromAssembly(typeof(Nexus.Benchmarks.ChannelBenchmarks).Assembly).Run(args);
