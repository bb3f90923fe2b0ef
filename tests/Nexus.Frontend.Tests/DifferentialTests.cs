// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using System.Text.Json.Nodes;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// The proof of the frontend: every case of difftest.py gives the same normalized record with real boto3 over
/// HTTP (baseline) and with the stand-in over the Nexus channel and the backend (nexus), against one store.
/// </summary>
public sealed class DifferentialTests(ITestOutputHelper output)
{
    /// <summary>Larger than the default 64 MiB channel region, so transfers must stream through it in chunks.</summary>
    private const int LargeObjectMib = 80;

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    /// <summary>
    /// Differences that other components own, each with what removes it. They are tolerated and printed, so the
    /// frontend's own fidelity gates CI; any other difference fails the test. Delete an entry once its fix lands
    /// (the test prints entries that no longer match anything). None is known now.
    /// </summary>
    private static readonly KnownDivergence[] s_known = [];

    [RealClientsFact]
    public async Task NexusModeGivesTheSameResultsAsRealBoto3()
    {
        await using var environment = await DiffEnvironment.StartAsync();
        var baseline = await environment.RunBaselineAsync(LargeObjectMib);
        var nexus = await environment.RunNexusAsync(LargeObjectMib);
        SaveRecords(baseline, nexus);

        Assert.StartsWith("/usr/lib/python3/dist-packages/", (string?)baseline["boto3_file"], StringComparison.Ordinal);
        Assert.StartsWith(PythonProcess.FrontendDir, (string?)nexus["boto3_file"], StringComparison.Ordinal);
        Assert.StartsWith(PythonProcess.FrontendDir, (string?)nexus["botocore_file"], StringComparison.Ordinal);
        // No network stack and no real SDK in the sandbox.
        Assert.Empty(nexus["modules"]!.AsArray());

        var baselineCases = Cases(baseline);
        // The records must exercise real success and failure paths, or equality proves nothing: spot-check the
        // baseline against known S3 behaviour.
        Assert.Equal("NoSuchKey", (string?)baselineCases["get_missing_key"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal("404", (string?)baselineCases["head_missing"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal("AccessDenied", (string?)baselineCases["get_denied_bucket"]["error"]?["response"]?["Error"]?["Code"]);
        Assert.Equal(206, (int?)baselineCases["get_range_first_bytes"]["result"]?["ResponseMetadata"]?["HTTPStatusCode"]);
        Assert.Equal(70000, (int?)baselineCases["download_file_small"]["result"]?["callback_total"]);
        Assert.Equal(LargeObjectMib << 20, (long?)baselineCases["large_object_transfer"]["result"]?["callback_down"]);
        Assert.False(string.IsNullOrEmpty((string?)baselineCases["get_checksum_mode_writer_crc32"]["result"]?["ChecksumCRC32"]));
        Assert.False(string.IsNullOrEmpty((string?)baselineCases["head_checksum_mode_writer_crc32"]["result"]?["ChecksumCRC32"]));
        Assert.False(string.IsNullOrEmpty((string?)baselineCases["put_checksum_algorithm_crc32_then_get_checksum_mode"]["result"]?["get"]?["ChecksumCRC32"]));
        Assert.Equal("BadDigest", (string?)baselineCases["put_wrong_checksum_sha256_is_bad_digest"]["error"]?["response"]?["Error"]?["Code"]);
        // SSE-KMS as storage reports it: the key on the write's answer and on HEAD.
        Assert.Equal("arn:aws:kms:us-east-1:000000000000:alias/aws/s3", (string?)baselineCases["put_kms"]["result"]?["head"]?["SSEKMSKeyId"]);
        Assert.Equal("boto3.exceptions.S3UploadFailedError", (string?)baselineCases["upload_file_missing_bucket"]["error"]?["exception"]);
        // Multipart checksums: the composite is S3's (computed in the script from the parts), a bad part is refused.
        Assert.True((bool?)baselineCases["multipart_checksum_sha256_round_trip"]["result"]?["composite_as_s3"]);
        Assert.True((bool?)baselineCases["upload_file_multipart_checksum_algorithm_sha256"]["result"]?["composite_as_s3"]);
        Assert.Equal("BadDigest", (string?)baselineCases["multipart_part_checksum_mismatch_is_bad_digest"]["result"]?["outcome"]?["response"]?["Error"]?["Code"]);
        // A form upload stating a public ACL is refused (ACLs disabled), the owner's full control is stored.
        Assert.Equal(["dt/post/acl-owner"], baselineCases["presigned_post_acl"]["result"]!["stored"]!.AsArray().Select(k => (string?)k));
        // A presigned PUT signs the new object's headers: sent as given they are stored, another Content-Type is refused.
        Assert.Equal("image/png", (string?)baselineCases["presigned_put_with_signed_headers"]["result"]?["stored"]?["ContentType"]);
        Assert.Equal("SignatureDoesNotMatch", (string?)baselineCases["presigned_put_with_another_content_type_is_refused"]["result"]?["fetched"]?["code"]);
        // The resource layer: an action drops what the resource loaded (3 bytes, then 5), a multipart upload made
        // through resources, a resource without a load model refusing to load.
        Assert.Equal([3, 5], baselineCases["resource_action_drops_loaded_data"]["result"]!.AsArray().Select(n => (int?)n));
        Assert.Equal((5 << 20) + 4, (int?)baselineCases["resource_multipart_upload"]["result"]?["size"]);
        Assert.Equal("boto3.exceptions.ResourceLoadException", (string?)baselineCases["resource_version_without_data_cannot_load"]["error"]?["exception"]);
        Assert.DoesNotContain(baselineCases.Values, c => ((string?)c["error"]?["exception"])?.StartsWith("builtins.NameError", StringComparison.Ordinal) == true);
        var differences = Compare(baselineCases, Cases(nexus));
        var unexplained = differences.Where(d => Explain(d) is null).ToList();
        output.WriteLine($"{baselineCases.Count} cases compared: {differences.Select(d => d.Case).Distinct().Count()} differ, "
            + $"{unexplained.Select(d => d.Case).Distinct().Count()} of them unexplained");
        foreach (var group in differences.GroupBy(Explain))
        {
            output.WriteLine(group.Key is null ? "UNEXPLAINED:" : $"known ({group.Key.Reason}):");
            foreach (var d in group)
            {
                output.WriteLine($"  {d}");
            }
        }

        foreach (var stale in s_known.Where(k => !differences.Any(k.Matches)))
        {
            output.WriteLine($"known divergence no longer seen, remove it: {stale.Case ?? "*"} {stale.Path}");
        }

        Assert.True(unexplained.Count == 0, "nexus differs from real boto3:\n" + string.Join("\n", unexplained));
    }

    /// <summary>Compares a baseline run's cases with a nexus run's; any difference fails with <paramref name="what"/>.</summary>
    internal static void AssertSameRecords(Dictionary<string, JsonObject> baselineCases, JsonObject nexus, ITestOutputHelper output, string what)
    {
        var differences = Compare(baselineCases, Cases(nexus));
        output.WriteLine($"{baselineCases.Count} cases compared, {differences.Count} differences");
        Assert.True(differences.Count == 0, what + ":\n" + string.Join("\n", differences));
    }

    internal static Dictionary<string, JsonObject> Cases(JsonObject record) =>
        record["cases"]!.AsArray().Select(c => c!.AsObject()).ToDictionary(c => (string)c["case"]!);

    private static KnownDivergence? Explain(Difference difference) => s_known.FirstOrDefault(k => k.Matches(difference));

    internal static List<Difference> Compare(Dictionary<string, JsonObject> baseline, Dictionary<string, JsonObject> nexus)
    {
        var differences = new List<Difference>();
        foreach (var (name, expected) in baseline)
        {
            if (!nexus.TryGetValue(name, out var actual))
            {
                differences.Add(new Difference(name, "$", Show(expected), "<missing>"));
                continue;
            }

            Diff(differences, name, "$", expected, actual);
        }

        differences.AddRange(nexus.Keys.Where(k => !baseline.ContainsKey(k)).Select(k => new Difference(k, "$", "<missing>", Show(nexus[k]))));
        return differences;
    }

    /// <summary>Collects the innermost differing paths, so a failure says what differs rather than dumping records.</summary>
    private static void Diff(List<Difference> into, string name, string path, JsonNode? expected, JsonNode? actual)
    {
        if (JsonNode.DeepEquals(expected, actual))
        {
            return;
        }

        if (expected is JsonObject eo && actual is JsonObject ao)
        {
            foreach (var key in eo.Select(p => p.Key).Union(ao.Select(p => p.Key)))
            {
                var inBaseline = eo.TryGetPropertyValue(key, out var e);
                var inNexus = ao.TryGetPropertyValue(key, out var a);
                if (inBaseline && inNexus)
                {
                    Diff(into, name, $"{path}.{key}", e, a);
                }
                else
                {
                    into.Add(new Difference(name, $"{path}.{key}", inBaseline ? Show(e) : "<absent>", inNexus ? Show(a) : "<absent>"));
                }
            }

            return;
        }

        if (expected is JsonArray ea && actual is JsonArray aa && ea.Count == aa.Count)
        {
            for (var i = 0; i < ea.Count; i++)
            {
                Diff(into, name, $"{path}[{i}]", ea[i], aa[i]);
            }

            return;
        }

        into.Add(new Difference(name, path, Show(expected), Show(actual)));
    }

    private static string Show(JsonNode? node)
    {
        var text = node?.ToJsonString() ?? "null";
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    /// <summary>Both records go to artifacts/difftest/ (git-ignored) for inspection.</summary>
    private void SaveRecords(JsonObject baseline, JsonObject nexus)
    {
        var dir = Path.Combine(HostRequirements.RepoRoot, "artifacts", "difftest");
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "baseline.json"), baseline.ToJsonString(s_indented));
        File.WriteAllText(Path.Combine(dir, "nexus.json"), nexus.ToJsonString(s_indented));
        output.WriteLine($"records: {dir}/baseline.json, {dir}/nexus.json");
    }
}

internal sealed record Difference(string Case, string Path, string Baseline, string Nexus)
{
    public override string ToString() => $"{Case} {Path}: baseline={Baseline} nexus={Nexus}";
}

/// <summary>
/// A difference another component owns. Case null matches every case, "*x*" case names containing x. Path matches
/// that path and everything under it; "*.x" matches any path ending in ".x".
/// </summary>
internal sealed record KnownDivergence(string? Case, string Path, string Reason)
{
    public bool Matches(Difference d) => MatchesCase(d.Case) && MatchesPath(d.Path);

    private bool MatchesCase(string name) =>
        Case is null
        || (Case.StartsWith('*') && Case.EndsWith('*') && name.Contains(Case.Trim('*'), StringComparison.Ordinal))
        || Case == name;

    private bool MatchesPath(string path) =>
        Path.StartsWith('*') ? path.EndsWith(Path[1..], StringComparison.Ordinal)
        : Path == "$" || path == Path || path.StartsWith(Path + ".", StringComparison.Ordinal) || path.StartsWith(Path + "[", StringComparison.Ordinal);
}
