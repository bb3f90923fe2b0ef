// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using Microsoft.AspNetCore.Http;

namespace Nexus.Store;

/// <summary>
/// ACLs as S3 answers them for a bucket with its default Object Ownership, BucketOwnerEnforced (ACLs disabled): every
/// ACL reads as the owner's FULL_CONTROL; a write may state only that (the bucket-owner-full-control canned ACL, a
/// full-control grant to the owner, or an AccessControlPolicy granting only that), anything else is refused with
/// 400 AccessControlListNotSupported, on PutObjectAcl / PutBucketAcl as on PutObject, CopyObject and CreateMultipartUpload.
/// </summary>
internal sealed partial class S3Handler
{
    private const string OwnerFullControl = "bucket-owner-full-control";
    private static readonly HashSet<string> s_aclParams = ["acl", "versionId"];
    private static readonly HashSet<string> s_bucketAclParams = ["acl"];

    /// <summary>
    /// The checks both ACL calls make on their target: only S3's parameters, the credential's grant, the bucket and (for
    /// an object's ACL) the object exist; true for an object's ACL.
    /// </summary>
    private bool CheckAclTarget(S3Request request, bool isWrite)
    {
        var objectLevel = request.Key.Length > 0;
        RequireOnly(request, "/" + request.Bucket + (objectLevel ? "/key" : string.Empty), objectLevel ? s_aclParams : s_bucketAclParams);
        Authorize(request, request.Bucket, objectLevel ? request.Key : null, isWrite);
        var bucket = _store.GetBucket(request.Bucket);
        if (objectLevel)
        {
            using var stored = _store.OpenObject(bucket, request.Key) ?? throw S3Errors.NoSuchKey(request.Key);
        }

        return objectLevel;
    }

    /// <summary>GetObjectAcl / GetBucketAcl (key empty): the owner with FULL_CONTROL, S3's answer when ACLs are disabled.</summary>
    private async Task GetAclAsync(S3Request request)
    {
        CheckAclTarget(request, isWrite: false);

        await WriteXmlAsync(request, new S3Xml("AccessControlPolicy")
            .Open("Owner").Element("ID", OwnerId).Element("DisplayName", OwnerId).Close("Owner")
            .Open("AccessControlList").Open("Grant")
            .Open("Grantee", "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\"")
            .Element("ID", OwnerId).Element("DisplayName", OwnerId).Close("Grantee")
            .Element("Permission", "FULL_CONTROL").Close("Grant").Close("AccessControlList")
            .Finish("AccessControlPolicy"));
    }

    /// <summary>PutObjectAcl / PutBucketAcl (key empty): accepted only when it states the owner's full control, which is already so.</summary>
    private async Task PutAclAsync(S3Request request)
    {
        var objectLevel = CheckAclTarget(request, isWrite: true);

        var stated = CheckAclHeaders(request.Request.Headers);
        using var body = await ReceiveSmallBodyAsync(request, objectLevel ? "PutObjectAcl" : "PutBucketAcl");
        if (body.Length > 0)
        {
            var root = await S3Xml.ReadAsync(body, MaxXmlBody, "AccessControlPolicy", request.Aborted);
            var grants = root.Descendants().Where(e => e.Name.LocalName == "Grant").ToList();
            if (root.Name.LocalName != "AccessControlPolicy" || grants.Count == 0)
            {
                throw new S3Exception(400, "MalformedACLError", "The XML you provided was not well-formed or did not validate against our published schema");
            }

            foreach (var grant in grants)
            {
                var permission = grant.Elements().FirstOrDefault(e => e.Name.LocalName == "Permission")?.Value.Trim();
                var grantee = grant.Elements().FirstOrDefault(e => e.Name.LocalName == "Grantee");
                var id = grantee?.Elements().FirstOrDefault(e => e.Name.LocalName == "ID")?.Value.Trim();
                if (permission != "FULL_CONTROL" || id != OwnerId)
                {
                    throw AclNotSupported();
                }
            }

            stated = true;
        }

        if (!stated)
        {
            throw new S3Exception(400, "MalformedACLError", "The request states no ACL: send x-amz-acl, an x-amz-grant-* header or an AccessControlPolicy.");
        }
    }

    /// <summary>
    /// Refuses an x-amz-acl or x-amz-grant-* header that states anything but the owner's full control (S3's answer on a
    /// bucket whose ACLs are disabled). Returns whether the request stated an ACL at all.
    /// </summary>
    private static bool CheckAclHeaders(IHeaderDictionary headers)
    {
        var stated = false;
        foreach (var (name, value) in headers)
        {
            if (name.Equals("x-amz-acl", StringComparison.OrdinalIgnoreCase))
            {
                stated = value.ToString().Trim() == OwnerFullControl ? true : throw AclNotSupported();
            }
            else if (name.StartsWith("x-amz-grant-", StringComparison.OrdinalIgnoreCase))
            {
                // Only the equivalent of bucket-owner-full-control: full control granted to the owner alone.
                var ownerOnly = name.Equals("x-amz-grant-full-control", StringComparison.OrdinalIgnoreCase)
                    && value.ToString().Trim().Replace(" ", string.Empty, StringComparison.Ordinal) == $"id=\"{OwnerId}\"";
                stated = ownerOnly ? true : throw AclNotSupported();
            }
        }

        return stated;
    }

    private static S3Exception AclNotSupported() => new(400, "AccessControlListNotSupported", "The bucket does not allow ACLs");
}
