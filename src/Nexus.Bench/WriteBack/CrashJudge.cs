// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Bench.WriteBack;

/// <summary>One trial's checks: how many acknowledged writes it had and which of them a crash lost.</summary>
public sealed record CrashVerdict(int Acknowledged, int AcknowledgedWriteBack, int InFlight, int Aborted, int Keys, int Lost, IReadOnlyList<string> Violations);

/// <summary>
/// The writes of one trial in the order the worker reported them (<c>issue id key md5</c> before a put starts,
/// <c>ack id</c> once it was acknowledged, <c>aborted id</c> when its sandbox died mid-body), and the rule they are
/// judged by. Per key, let A be the write acknowledged last. A write acknowledged before A was issued is older than A
/// for certain; every other write of the key (overlapping A, or still in flight at the kill, whose durable record a
/// restart may legitimately upload) may have been ordered after it. So the key must hold the bytes of A or of such a
/// later-or-overlapping write; anything else, or nothing, loses A. A key with no acknowledged write may hold nothing
/// or one of its writes that was in flight. An aborted write never may.
/// </summary>
public sealed class CrashJudge
{
    private readonly List<Write> _writes = [];
    private readonly Dictionary<string, Write> _byId = new(StringComparer.Ordinal);
    private int _events;

    public void Record(string[] line)
    {
        var at = _events++;
        switch (line)
        {
            case ["issue", var id, var key, var md5]:
                var write = new Write(id, key, md5 == "-" ? null : md5, at);
                _writes.Add(write);
                _byId.Add(id, write);
                break;
            case ["ack", var id]:
                _byId[id].AckedAt = at;
                break;
            case ["aborted", var id]:
                _byId[id].Aborted = true;
                break;
            default:
                throw new FormatException($"unexpected line from the crash worker: {string.Join(' ', line)}");
        }
    }

    /// <summary>Judges the trial against what the store holds after recovery (key → MD5 of its bytes).</summary>
    public CrashVerdict Judge(IReadOnlyDictionary<string, string> stored)
    {
        var violations = new List<string>();
        var lost = 0;
        var keys = _writes.GroupBy(w => w.Key).ToList();
        foreach (var key in keys)
        {
            var found = stored.GetValueOrDefault(key.Key);
            var last = key.Where(w => w.AckedAt is not null).MaxBy(w => w.AckedAt);
            var allowed = key.Where(w => !w.Aborted && w.Md5 is not null && (last is null || w.AckedAt is null || w.AckedAt > last.IssuedAt)).ToList();
            if (last is not null && (found is null || !allowed.Any(w => w.Md5 == found)))
            {
                lost++;
                violations.Add($"{key.Key}: acknowledged write {last.Id} lost: the store holds {found ?? "nothing"}, allowed {string.Join(", ", allowed.Select(w => w.Id))}");
            }
            else if (last is null && found is not null && !allowed.Any(w => w.Md5 == found))
            {
                violations.Add($"{key.Key} holds {found}, which no write of it in flight wrote");
            }
        }

        foreach (var extra in stored.Keys.Where(k => !_writes.Any(w => w.Key == k)))
        {
            violations.Add($"{extra} is stored but was never written");
        }

        return new CrashVerdict(
            _writes.Count(w => w.AckedAt is not null),
            _writes.Count(w => w.AckedAt is not null && w.Id.StartsWith("wb", StringComparison.Ordinal)),
            _writes.Count(w => w.AckedAt is null && !w.Aborted),
            _writes.Count(w => w.Aborted),
            keys.Count,
            lost,
            violations);
    }

    private sealed class Write(string id, string key, string? md5, int issuedAt)
    {
        public string Id { get; } = id;

        public string Key { get; } = key;

        /// <summary>MD5 of the bytes, or null when they are not known (the aborted sandbox's random half body).</summary>
        public string? Md5 { get; } = md5;

        public int IssuedAt { get; } = issuedAt;

        public int? AckedAt { get; set; }

        public bool Aborted { get; set; }
    }
}
