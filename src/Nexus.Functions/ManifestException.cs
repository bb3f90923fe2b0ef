// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Functions;

/// <summary>A manifest that cannot be used: the message names the file, the line and the field.</summary>
public sealed class ManifestException : Exception
{
    public ManifestException(string file, int line, string field, string problem)
        : base(line > 0 ? $"{file}:{line}: {field}: {problem}" : $"{file}: {field}: {problem}")
    {
        File = file;
        Line = line;
        Field = field;
        Problem = problem;
    }

    public ManifestException()
        : this("function.yaml", 0, "(manifest)", "invalid")
    {
    }

    public ManifestException(string message)
        : base(message)
    {
        File = "function.yaml";
        Field = "(manifest)";
        Problem = message;
    }

    public ManifestException(string message, Exception innerException)
        : base(message, innerException)
    {
        File = "function.yaml";
        Field = "(manifest)";
        Problem = message;
    }

    public string File { get; }

    /// <summary>1-based line of the offending node; 0 when the problem has no line (e.g. a missing file).</summary>
    public int Line { get; }

    /// <summary>The field's path, e.g. <c>memory</c> or <c>storage[0].access</c>.</summary>
    public string Field { get; }

    public string Problem { get; }
}
