// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json.Nodes;
using Nexus.Backend.Services;
using Nexus.Testing;
using Xunit.Abstractions;

namespace Nexus.Frontend.Tests;

/// <summary>
/// S3 calls the fast path does not serve (difftests/s3generic.py): real boto3 over HTTP with the function's key
/// (baseline), and the stand-in with the real botocore behind it, each request sent unsigned over the channel and
/// signed by the backend for the node's store within the function's grants (nexus), give the same records.
/// </summary>
public sealed class S3GenericPathTests(ITestOutputHelper output)
{
    /// <summary>Where the backend's refusals differ from the store's (codes, statuses, messages and Resource agree).</summary>
    private static readonly KnownDivergence[] s_known =
    [
        new("delete_objects_naming_a_denied_bucket_key", "$",
            "by design: the backend refuses a DeleteObjects naming a key outside the grants as a whole (AccessDenied), where "
            + "the store answers 200 with that key in Errors; the fast path's delete_objects answers per key as the store does"),
    ];

    private static string Script => Path.Combine(PythonProcess.FrontendDir, "difftests", "s3generic.py");

    [RealClientsFact]
    public async Task S3CallsOutsideTheFastPathGiveTheSameResultsThroughTheGenericPath()
    {
        await using var environment = await DiffEnvironment.StartAsync();
        var baseline = Parse("baseline", await environment.RunBaselineScriptAsync([Script, "run"], new Dictionary<string, string>()));
        var nexus = Parse("nexus", await environment.RunNexusScriptAsync(
            DiffEnvironment.Manifest, [Script, "run"], new Dictionary<string, string>(), new Dictionary<string, ServiceEndpoint>()));

        var records = Path.Combine(HostRequirements.RepoRoot, "artifacts", "difftest");
        Directory.CreateDirectory(records);
        File.WriteAllText(Path.Combine(records, "s3generic-baseline.json"), baseline.ToJsonString());
        File.WriteAllText(Path.Combine(records, "s3generic-nexus.json"), nexus.ToJsonString());
        Assert.StartsWith(PythonProcess.FrontendDir, (string?)nexus["boto3_file"], StringComparison.Ordinal);
        Assert.True((bool?)nexus["generic_loaded"], "the nexus run never used the generic path");
        var baselineCases = DifferentialTests.Cases(baseline);

        // Real success and failure paths, or equality proves nothing.
        Assert.Equal(["gen/mpu/a", "gen/mpu/b"], baselineCases["list_multipart_uploads_by_prefix"]["result"]!["keys"]!.AsArray().Select(k => (string?)k));
        Assert.Equal(3, baselineCases["list_multipart_uploads_paginated"]["result"]!.AsArray().Count);
        Assert.Equal("customer", (string?)baselineCases["put_and_get_with_a_customer_key"]["result"]?["get"]?["Body"]?["<StreamingBody>"]?["head"]);
        Assert.Equal("InvalidRequest", (string?)baselineCases["put_and_get_with_a_customer_key"]["result"]?["refused"]?["get"]?["response"]?["Error"]?["Code"]);
        Assert.Equal(("alias/app", true), ((string?)baselineCases["put_kms_named_key"]["result"]?["get"]?["SSEKMSKeyId"], (bool?)baselineCases["put_kms_named_key"]["result"]?["get"]?["BucketKeyEnabled"]));
        Assert.True((bool?)baselineCases["upload_part_copy_round_trip"]["result"]!["same"]);
        Assert.EndsWith("-2\"", (string?)baselineCases["upload_part_copy_round_trip"]["result"]!["etag"], StringComparison.Ordinal);
        Assert.Equal(3, baselineCases["list_object_versions_paginated"]["result"]!.AsArray().Count);
        Assert.Equal(["gen/bypass/a", "gen/bypass/b"], baselineCases["delete_objects_with_bypass_header"]["result"]!["deleted"]!.AsArray().Select(k => (string?)k));
        Assert.Equal("NoSuchUpload", (string?)baselineCases["modeled_exception_of_a_generic_call"]["result"]?["caught"]);
        // A client with event handlers: a before-parameter-build handler sets the stored type; after-call sees a 404.
        Assert.Equal("text/x-hooked", (string?)baselineCases["client_event_handler_changes_a_put"]["result"]?["stored"]);
        Assert.Equal("404", baselineCases["client_event_handler_sees_an_error"]["result"]?[0]?.ToJsonString());
        // The resource layer over generic calls: ACLs, object versions listed and batch-deleted, an upload's parts.
        Assert.Equal("FULL_CONTROL", (string?)baselineCases["resource_object_acl"]["result"]?["grants"]?[0]?["Permission"]);
        Assert.Equal(2, baselineCases["resource_object_versions"]["result"]!["listed"]!.AsArray().Count);
        Assert.Empty(baselineCases["resource_object_versions"]["result"]!["left"]!.AsArray());
        Assert.Equal(2, baselineCases["resource_multipart_listings"]["result"]!["parts"]!.AsArray().Count);
        foreach (var denied in new[]
        {
            "list_multipart_uploads_denied_bucket", "upload_part_copy_from_denied_bucket", "get_bucket_location_denied", "list_object_versions_denied", "put_bucket_cors_refused",
            "delete_bucket_refused", "get_object_attributes_denied", "get_object_part_number_denied", "get_object_acl_denied", "put_bucket_acl_refused",
        })
        {
            Assert.Equal("AccessDenied", Code(baselineCases, denied));
        }

        Assert.Equal("AccessDenied", (string?)baselineCases["delete_bucket_under_a_just_acknowledged_put"]["result"]?["outcome"]?["response"]?["Error"]?["Code"]);
        Assert.Equal("acknowledged before the delete", (string?)baselineCases["delete_bucket_under_a_just_acknowledged_put"]["result"]?["read"]);
        Assert.Equal("403", Code(baselineCases, "head_object_version_denied"));

        // GetObjectAttributes: the parts of a composite object, paged, and its checksum without "-N"; only a count for a
        // multipart object without part checksums; the latest put's ETag, never an older one.
        var composite = baselineCases["get_object_attributes_of_a_composite_multipart_object"]["result"]!;
        Assert.True((bool?)composite["composite_matches"]);
        Assert.Equal(3, (int?)composite["whole"]!["ObjectParts"]!["TotalPartsCount"]);
        Assert.Equal(3, composite["whole"]!["ObjectParts"]!["Parts"]!.AsArray().Count);
        Assert.Equal(2, (int?)composite["page"]!["ObjectParts"]!["Parts"]![0]!["PartNumber"]);
        Assert.Equal(2, (int?)baselineCases["get_object_attributes_of_a_plain_multipart_object"]["result"]!["ObjectParts"]!["TotalPartsCount"]);
        Assert.True((bool?)baselineCases["get_object_attributes_sees_the_latest_put"]["result"]!["etag_is_second"]);
        Assert.Equal("NoSuchKey", Code(baselineCases, "get_object_attributes_missing_key"));

        // A completion stating the object's checksum (the composite) is checked: the right one completes, a wrong one is
        // BadDigest with nothing stored and the upload kept.
        Assert.EndsWith("-2", (string?)baselineCases["complete_multipart_upload_stating_the_objects_checksum"]["result"]!["ChecksumSHA256"], StringComparison.Ordinal);
        var wrongStated = baselineCases["complete_multipart_upload_stating_a_wrong_checksum"]["result"]!;
        Assert.Equal("BadDigest", (string?)wrongStated["refused"]!["response"]!["Error"]!["Code"]);
        Assert.Equal((2, 0), ((int?)wrongStated["kept_parts"], (int?)wrongStated["stored"]));

        // GET/HEAD ?partNumber: the part's bytes, range and the part count; past the count 416; not with a Range.
        var partNumbers = baselineCases["get_object_part_numbers"]["result"]!;
        Assert.True((bool?)partNumbers["second_body_is_part_2"]);
        Assert.Equal(2, (int?)partNumbers["second"]!["PartsCount"]);
        Assert.Equal(206, (int?)partNumbers["first"]!["ResponseMetadata"]!["HTTPStatusCode"]);
        Assert.Equal("InvalidPartNumber", Code(baselineCases, "get_object_part_number_past_the_count"));
        Assert.Equal("416", Code(baselineCases, "head_object_part_number_past_the_count"));
        Assert.Equal("InvalidRequest", Code(baselineCases, "get_object_part_number_with_a_range"));
        Assert.Equal("bytes 0-15/16", (string?)baselineCases["get_object_part_number_of_a_single_put"]["result"]!["ContentRange"]);

        // ACLs as S3 with ACLs disabled: the owner's FULL_CONTROL; only bucket-owner-full-control may be stated.
        Assert.Equal("FULL_CONTROL", (string?)baselineCases["get_object_acl"]["result"]!["Grants"]![0]!["Permission"]);
        Assert.Equal("FULL_CONTROL", (string?)baselineCases["get_bucket_acl"]["result"]!["Grants"]![0]!["Permission"]);
        foreach (var refused in new[] { "put_object_with_private_acl_is_refused", "put_object_with_a_grant_is_refused", "copy_object_with_public_acl_is_refused", "create_multipart_upload_with_public_acl_is_refused" })
        {
            Assert.Equal("AccessControlListNotSupported", Code(baselineCases, refused));
        }

        Assert.Equal(0, (int?)baselineCases["put_object_with_public_acl_is_refused"]["result"]!["stored"]);
        Assert.Equal("AccessControlListNotSupported", (string?)baselineCases["put_object_acl"]["result"]!["refused"]!["response"]!["Error"]!["Code"]);

        var differences = DifferentialTests.Compare(baselineCases, DifferentialTests.Cases(nexus));
        var unexplained = differences.Where(d => !s_known.Any(k => k.Matches(d))).ToList();
        output.WriteLine($"{baselineCases.Count} cases compared, {differences.Count} differences, {unexplained.Count} unexplained");
        foreach (var d in differences)
        {
            output.WriteLine($"  {(unexplained.Contains(d) ? "UNEXPLAINED " : "")}{d}");
        }

        Assert.True(unexplained.Count == 0, "the generic S3 path differs from real boto3:\n" + string.Join("\n", unexplained));
    }

    private static string? Code(Dictionary<string, JsonObject> cases, string name) => (string?)cases[name]["error"]?["response"]?["Error"]?["Code"];

    private static JsonObject Parse(string mode, (int ExitCode, string Stdout, string Stderr) run)
    {
        Assert.True(run.ExitCode == 0, $"s3generic {mode} run failed (exit {run.ExitCode}):\n{run.Stdout}\n{run.Stderr}");
        return JsonNode.Parse(run.Stdout) as JsonObject ?? throw new InvalidOperationException($"s3generic {mode} printed no JSON:\n{run.Stdout}\n{run.Stderr}");
    }
}
