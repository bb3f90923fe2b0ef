// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Nexus.Bench.WriteBack;

namespace Nexus.Bench.Tests;

/// <summary>The crash trials' rule: an acknowledged write is lost unless its key holds it or a write that may be newer.</summary>
public sealed class CrashJudgeTests
{
    [Fact]
    public void The_last_acknowledged_write_or_one_overlapping_it_must_be_stored()
    {
        var judge = Judge(
            "issue a k m1", "ack a",
            "issue b k m2", "issue c k m3", "ack b",
            "issue d k m4");

        // b was acknowledged last; c overlapped it and d was in flight: either may have been ordered after it.
        foreach (var allowed in new[] { "m2", "m3", "m4" })
        {
            Assert.Equal(0, judge.Judge(new Dictionary<string, string> { ["k"] = allowed }).Lost);
        }

        // a was acknowledged before b was issued: b is newer for certain, so a in the store loses b; so does nothing.
        var older = judge.Judge(new Dictionary<string, string> { ["k"] = "m1" });
        Assert.Equal(1, older.Lost);
        Assert.Contains("acknowledged write b lost", older.Violations[0], StringComparison.Ordinal);
        Assert.Equal(1, judge.Judge(new Dictionary<string, string>()).Lost);
        Assert.Equal(2, older.Acknowledged);
        Assert.Equal(2, older.InFlight);
    }

    [Fact]
    public void An_aborted_put_never_lands_and_a_key_without_an_acknowledgement_may_stay_empty()
    {
        var judge = Judge("issue a k -", "aborted a", "issue b other m9");
        Assert.Empty(judge.Judge(new Dictionary<string, string>()).Violations);
        Assert.Empty(judge.Judge(new Dictionary<string, string> { ["other"] = "m9" }).Violations);
        Assert.NotEmpty(judge.Judge(new Dictionary<string, string> { ["k"] = "random" }).Violations);
        Assert.NotEmpty(judge.Judge(new Dictionary<string, string> { ["stranger"] = "m1" }).Violations);
    }

    private static CrashJudge Judge(params string[] lines)
    {
        var judge = new CrashJudge();
        foreach (var line in lines)
        {
            judge.Record(line.Split(' '));
        }

        return judge;
    }
}
