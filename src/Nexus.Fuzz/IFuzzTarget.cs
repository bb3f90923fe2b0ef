// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Fuzz;

/// <summary>What a parser did with one input: took it, or refused it with its documented validation error.</summary>
public enum FuzzOutcome
{
    Accepted,
    Rejected,
}

/// <summary>
/// One parser under fuzzing. <see cref="Execute"/> feeds it an input the way a hostile sandbox or guest would and
/// checks the parser's invariants; it returns normally when the parser accepted the input or refused it with its
/// documented exception, and anything else escaping it (another exception, a broken invariant) is a crash.
/// </summary>
public interface IFuzzTarget : IDisposable
{
    string Name { get; }

    /// <summary>Valid inputs the mutator starts from.</summary>
    IReadOnlyList<byte[]> Seeds { get; }

    /// <summary>Values worth writing into inputs (region edges, ring sizes): the mutator's dictionary.</summary>
    IReadOnlyList<ulong> InterestingValues { get; }

    /// <summary>Inputs are cut to this length.</summary>
    int MaxInputLength { get; }

    FuzzOutcome Execute(ReadOnlySpan<byte> input);

    /// <summary>What the target observed beside the verdicts, printed after a run (the live target's neighbour); none by default.</summary>
    string? Summary() => null;
}

/// <summary>A fuzz target's invariant does not hold for an input: a bug in the parser it checks.</summary>
public sealed class FuzzInvariantException : Exception
{
    public FuzzInvariantException()
    {
    }

    public FuzzInvariantException(string message)
        : base(message)
    {
    }

    public FuzzInvariantException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Throws when <paramref name="condition"/> is false.</summary>
    public static void Check(bool condition, string what)
    {
        if (!condition)
        {
            throw new FuzzInvariantException(what);
        }
    }
}
