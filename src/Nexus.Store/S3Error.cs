// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Store;

/// <summary>An S3 error: the code clients switch on, its HTTP status, and a message for people.</summary>
public sealed class S3Exception : Exception
{
    public S3Exception(int status, string code, string message)
        : base(message)
    {
        Status = status;
        Code = code;
    }

    public S3Exception()
        : this(500, "InternalError", "We encountered an internal error. Please try again.")
    {
    }

    public S3Exception(string message)
        : this(400, "InvalidRequest", message)
    {
    }

    public S3Exception(string message, Exception innerException)
        : base(message, innerException)
    {
        Status = 500;
        Code = "InternalError";
    }

    public int Status { get; }

    public string Code { get; }

    /// <summary>Elements S3 adds to this error's document after the message (e.g. <c>HeadersNotSigned</c>).</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Details { get; init; } = [];
}

/// <summary>The S3 error codes this store returns, with S3's status codes.</summary>
internal static class S3Errors
{
    public static S3Exception NoSuchBucket(string bucket) => new(404, "NoSuchBucket", $"The specified bucket does not exist: '{bucket}'.");

    public static S3Exception NoSuchKey(string key) => new(404, "NoSuchKey", $"The specified key does not exist: '{key}'.");

    public static S3Exception NoSuchUpload(string uploadId) => new(404, "NoSuchUpload", $"The specified multipart upload does not exist: '{uploadId}'. It may have been aborted or completed.");

    public static S3Exception BucketAlreadyOwnedByYou(string bucket) => new(409, "BucketAlreadyOwnedByYou", $"Your previous request to create the named bucket succeeded and you already own it: '{bucket}'.");

    public static S3Exception BucketNotEmpty(string bucket) => new(409, "BucketNotEmpty", $"The bucket you tried to delete is not empty: '{bucket}'.");

    public static S3Exception InvalidBucketName(string bucket, string why) => new(400, "InvalidBucketName", $"The specified bucket is not valid: '{bucket}': {why}.");

    public static S3Exception KeyTooLong(int bytes) => new(400, "KeyTooLongError", $"Your key is too long: {bytes} bytes of UTF-8, the limit is 1024.");

    public static S3Exception AccessDenied(string what) => new(403, "AccessDenied", "Access Denied: " + what);

    /// <summary>A signed request carrying x-amz-* headers its signature does not cover, in S3's words.</summary>
    public static S3Exception HeadersNotSigned(IEnumerable<string> names) =>
        new(403, "AccessDenied", "There were headers present in the request which were not signed")
        {
            Details = [new("HeadersNotSigned", string.Join(", ", names))],
        };

    /// <summary>
    /// A scoped credential's grants do not cover the request. The credential is not named: the client knows which one it
    /// signed with, and the node's backend refuses a nexus-mode function (which holds no key) in these same words.
    /// </summary>
    public static S3Exception NotGranted(string? bucket, string? key, bool isWrite) =>
        AccessDenied($"no grant allows {(isWrite ? "writing" : "reading")} {(bucket is null ? "the bucket list" : key is null ? $"bucket '{bucket}'" : $"'{bucket}/{key}'")}.");

    public static S3Exception InvalidRange(string range, long size) => new(416, "InvalidRange", $"The requested range '{range}' is not satisfiable for an object of {size} bytes.");

    public static S3Exception MalformedXml(string why) => new(400, "MalformedXML", "The XML you provided was not well-formed or did not validate against our published schema: " + why);

    public static S3Exception InvalidArgument(string why) => new(400, "InvalidArgument", why);

    public static S3Exception InvalidRequest(string why) => new(400, "InvalidRequest", why);

    public static S3Exception NotImplemented(string operation) => new(501, "NotImplemented", $"The operation '{operation}' is not implemented by the Nexus store.");

    public static S3Exception PreconditionFailed(string header) => new(412, "PreconditionFailed", $"At least one of the pre-conditions you specified did not hold: {header}.");

    public static S3Exception BadDigest(string what) => new(400, "BadDigest", $"The {what} you specified did not match the calculated checksum.");

    public static S3Exception IncompleteBody(string why) => new(400, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header: " + why);

    public static S3Exception EntityTooLarge(long max) => new(400, "EntityTooLarge", $"Your proposed upload exceeds the maximum allowed object size of {max} bytes.");

    public static S3Exception SignatureDoesNotMatch(string why) => new(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided. Check your key and signing method. " + why);
}
