// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.AspNetCore.Http;

namespace Nexus.Store;

/// <summary>
/// What no bucket of this store ever has: the configurations it cannot hold (policies, CORS, lifecycle, website,
/// replication, ...), object lock, archived objects. Nothing can set them here (a function's key may not write a
/// bucket's configuration; the node's key gets 501 NotImplemented; archive storage classes are refused on write), so
/// every request about them answers as S3 answers for a bucket where they were never set: the "not configured" error,
/// the document of the default S3 applies, or the refusal of a lock or restore. A function that asks
/// (<c>get_bucket_policy</c> in a try/except <c>NoSuchBucketPolicy</c>, a compliance check of public access) then runs
/// as it would against S3.
/// </summary>
internal sealed partial class S3Handler
{
    private const string ObjectLockMissing = "Bucket is missing Object Lock Configuration";

    /// <summary>The configurations S3 reports as absent until they are set: their error codes and messages.</summary>
    private static readonly Dictionary<string, (string Code, string Message)> s_unsetConfigurations = new(StringComparer.Ordinal)
    {
        ["policy"] = ("NoSuchBucketPolicy", "The bucket policy does not exist"),
        ["policyStatus"] = ("NoSuchBucketPolicy", "The bucket policy does not exist"),
        ["cors"] = ("NoSuchCORSConfiguration", "The CORS configuration does not exist"),
        ["lifecycle"] = ("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist"),
        ["tagging"] = ("NoSuchTagSet", "The TagSet does not exist"),
        ["website"] = ("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration"),
        // The store does not encrypt objects unless a write asks for AES256 (and then only records it), so it reports
        // no default encryption, as S3 did for buckets before it encrypted every object.
        ["encryption"] = ("ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found"),
        ["replication"] = ("ReplicationConfigurationNotFoundError", "The replication configuration was not found"),
        ["object-lock"] = ("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket"),
    };

    /// <summary>The configurations S3 answers with a default document when none was set.</summary>
    private static readonly Dictionary<string, string> s_defaultConfigurations = new(StringComparer.Ordinal)
    {
        ["notification"] = new S3Xml("NotificationConfiguration").Finish("NotificationConfiguration"),
        ["logging"] = new S3Xml("BucketLoggingStatus").Finish("BucketLoggingStatus"),
        ["accelerate"] = new S3Xml("AccelerateConfiguration").Finish("AccelerateConfiguration"),
        ["requestPayment"] = new S3Xml("RequestPaymentConfiguration").Element("Payer", "BucketOwner").Finish("RequestPaymentConfiguration"),
        // ACLs are disabled (the owner holds every object, S3Handler.Acl.cs): the bucket-owner-enforced setting.
        ["ownershipControls"] = new S3Xml("OwnershipControls").Open("Rule").Element("ObjectOwnership", "BucketOwnerEnforced")
            .Close("Rule").Finish("OwnershipControls"),
        // No request reaches an object without a key this store issued, which is what blocking public access means.
        ["publicAccessBlock"] = new S3Xml("PublicAccessBlockConfiguration").Element("BlockPublicAcls", true).Element("IgnorePublicAcls", true)
            .Element("BlockPublicPolicy", true).Element("RestrictPublicBuckets", true).Finish("PublicAccessBlockConfiguration"),
    };

    /// <summary>The configuration families S3 lists (none here), by subresource: the listing's root element.</summary>
    private static readonly Dictionary<string, string> s_configurationLists = new(StringComparer.Ordinal)
    {
        ["analytics"] = "ListBucketAnalyticsConfigurationResult",
        ["metrics"] = "ListMetricsConfigurationsResult",
        ["inventory"] = "ListInventoryConfigurationsResult",
        ["intelligent-tiering"] = "ListBucketIntelligentTieringConfigurationsOutput",
    };

    private static readonly HashSet<string> s_objectLockParams = ["retention", "legal-hold", "versionId"];
    private static readonly HashSet<string> s_restoreParams = ["restore", "versionId"];

    /// <summary>The configuration subresource a bucket-level GET names, when it is one this partial answers.</summary>
    private static string? ConfigurationRead(S3Request request)
    {
        foreach (var name in request.Query.Keys)
        {
            if (s_unsetConfigurations.ContainsKey(name) || s_defaultConfigurations.ContainsKey(name) || s_configurationLists.ContainsKey(name))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>GET /bucket?&lt;configuration&gt;: the bucket's (absent) configuration, after the read grant and the bucket's existence.</summary>
    private async Task GetBucketConfigurationAsync(S3Request request, string subresource)
    {
        var scope = "/" + request.Bucket;
        var isList = s_configurationLists.TryGetValue(subresource, out var listRoot);
        RequireOnly(request, scope, new HashSet<string>(isList ? [subresource, "id", "continuation-token"] : [subresource], StringComparer.Ordinal));
        Authorize(request, request.Bucket, null, isWrite: false);
        _store.GetBucket(request.Bucket);
        if (s_unsetConfigurations.TryGetValue(subresource, out var unset))
        {
            throw new S3Exception(StatusCodes.Status404NotFound, unset.Code, unset.Message);
        }

        if (isList)
        {
            if (request.Query.ContainsKey("id"))
            {
                throw new S3Exception(StatusCodes.Status404NotFound, "NoSuchConfiguration", "The specified configuration does not exist.");
            }

            await WriteXmlAsync(request, new S3Xml(listRoot!).Element("IsTruncated", false).Finish(listRoot!));
            return;
        }

        await WriteXmlAsync(request, s_defaultConfigurations[subresource]);
    }

    /// <summary>
    /// POST /bucket/key?restore: no object here is ever archived (archive storage classes are refused on write), so
    /// S3's refusal of a restore of an object in a readable class, after the write grant and the object's existence.
    /// </summary>
    private async Task<S3Exception> RestoreRefusalAsync(S3Request request)
    {
        RequireOnly(request, "/" + request.Bucket + "/key", s_restoreParams);
        Authorize(request, request.Bucket, request.Key, isWrite: true);
        RequireObject(request);
        await ReceiveWholeAsync(request, "RestoreObject");
        return new S3Exception(StatusCodes.Status403Forbidden, "InvalidObjectState", "Restore is not allowed for the object's current storage class");
    }

    /// <summary>
    /// GET or PUT /bucket/key?retention or ?legal-hold: object lock needs a bucket created with it, which this store
    /// cannot make: S3's refusal for a bucket without it, after the grant and the object's existence.
    /// </summary>
    private async Task<S3Exception> ObjectLockRefusalAsync(S3Request request)
    {
        RequireOnly(request, "/" + request.Bucket + "/key", s_objectLockParams);
        var isWrite = !HttpMethods.IsGet(request.Request.Method);
        Authorize(request, request.Bucket, request.Key, isWrite);
        RequireObject(request);
        if (isWrite)
        {
            await ReceiveWholeAsync(request, "PutObjectRetention or PutObjectLegalHold");
        }

        return S3Errors.InvalidRequest(ObjectLockMissing);
    }

    /// <summary>
    /// The refused request's body, received whole before the refusal (IncompleteBody if it is cut short): the
    /// connection is then ready for the client's next request, whatever the refusal.
    /// </summary>
    private async Task ReceiveWholeAsync(S3Request request, string operation)
    {
        using var body = await ReceiveSmallBodyAsync(request, operation);
    }

    /// <summary>NoSuchBucket or NoSuchKey unless the request's object exists.</summary>
    private void RequireObject(S3Request request)
    {
        var bucket = _store.GetBucket(request.Bucket);
        lock (bucket.Sync)
        {
            if (bucket.Find(request.Key) < 0)
            {
                throw S3Errors.NoSuchKey(request.Key);
            }
        }
    }

    /// <summary>A write asking for object lock (mode, retain-until date or legal hold) on a bucket that cannot have it.</summary>
    private static void RefuseObjectLockHeaders(IHeaderDictionary headers)
    {
        if (headers.ContainsKey("x-amz-object-lock-mode") || headers.ContainsKey("x-amz-object-lock-retain-until-date")
            || headers.ContainsKey("x-amz-object-lock-legal-hold"))
        {
            throw S3Errors.InvalidRequest(ObjectLockMissing);
        }
    }
}
