// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.CommandLine;

namespace Nexus.Cli.Commands;

/// <summary><c>nexus help [command...]</c>: the same text as <c>--help</c>, for users who type it as a word.</summary>
public static class HelpCommand
{
    public static Command Create(RootCommand root)
    {
        var path = new Argument<string[]>("command") { Description = "the command to describe, e.g. `bench density`", Arity = ArgumentArity.ZeroOrMore };
        var help = new Command("help", "Show help for nexus or one of its commands") { path };
        help.SetAction(parse =>
        {
            var words = parse.GetValue(path) ?? [];
            Command command = root;
            foreach (var word in words)
            {
                command = command.Subcommands.FirstOrDefault(c => c.Name == word || c.Aliases.Contains(word))
                    ?? throw new CliException(ExitCodes.Usage, $"help: no command '{string.Join(' ', words)}'; the commands of '{command.Name}' are: {string.Join(", ", command.Subcommands.Select(c => c.Name))}");
            }

            var target = root.Parse([.. words, "--help"]);
            return target.Invoke();
        });
        return help;
    }
}
