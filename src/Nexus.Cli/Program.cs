// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;
using Nexus.Cli;
using Nexus.Cli.Commands;

var root = new RootCommand("nexus: a serverless node with the communication fabric outside the sandbox");
root.Options.Add(CommonOptions.Home);
foreach (var command in NodeCommands.Create().Concat(FunctionCommands.Create()))
{
    root.Subcommands.Add(command);
}

root.Subcommands.Add(ImageCommands.Create());
root.Subcommands.Add(StoreCommands.Create());
root.Subcommands.Add(SpoolCommands.Create());
root.Subcommands.Add(VmmCommands.Create());
root.Subcommands.Add(FuzzCommands.Create());
var bench = BenchCommands.Create();
BenchTraceCommands.AddTo(bench);
BenchWriteBackCommands.AddTo(bench);
BenchHostileCommands.AddTo(bench);
BenchSoakCommands.AddTo(bench);
BenchSandboxCommands.AddTo(bench);
root.Subcommands.Add(bench);
root.Subcommands.Add(HelpCommand.Create(root));

// "@file.json" is a payload argument here, not a response file.
var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
using var interrupt = new Interrupt();
try
{
    // Signals are handled by Interrupt, not System.CommandLine: its 2 s grace would end the process mid-cleanup.
    var exitCode = await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false, ProcessTerminationTimeout = null }, interrupt.Token);

    // System.CommandLine answers a parse error (unknown option, missing argument, bad value) with 1, a function's error.
    return parse.Errors.Count > 0 ? ExitCodes.Usage : exitCode;
}
catch (OperationCanceledException) when (interrupt.Token.IsCancellationRequested)
{
    Console.Error.WriteLine($"nexus: stopped by {interrupt.Signal}");
    return ExitCodes.Interrupted;
}
catch (CliException e)
{
    Console.Error.WriteLine("nexus: " + e.Message);
    return e.ExitCode;
}
catch (Exception e) when (e is ArgumentException or InvalidDataException or UnauthorizedAccessException)
{
    Console.Error.WriteLine("nexus: " + e.Message);
    return ExitCodes.Usage;
}
