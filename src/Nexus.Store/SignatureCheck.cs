// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

namespace Nexus.Store;

/// <summary>The outcome of verifying one request's signature: AWS Signature Version 4, or Version 2 (S3 only).</summary>
public sealed class SignatureCheck
{
    private SignatureCheck()
    {
    }

    /// <summary>Null when the signature verified; else the S3 error to answer with (status, code, message).</summary>
    public S3Exception? Error { get; private init; }

    public bool Succeeded => Error is null;

    public StoreCredential Credential { get; private init; } = null!;

    /// <summary>4 or 2: which signature version verified.</summary>
    public int Version { get; private init; } = 4;

    /// <summary>
    /// The payload hash the request declared (hex, UNSIGNED-PAYLOAD or a STREAMING-* token). A SigV2 signature covers no
    /// body: UNSIGNED-PAYLOAD unless an x-amz-content-sha256 header (signed, as every x-amz-* header is) names a hash.
    /// </summary>
    public string PayloadHash { get; private init; } = string.Empty;

    /// <summary>The request's signature: the seed for aws-chunked chunk signatures (SigV4 only).</summary>
    public string Signature { get; private init; } = string.Empty;

    public byte[] SigningKey { get; private init; } = [];

    public string AmzDate { get; private init; } = string.Empty;

    /// <summary>The credential scope, date/region/service/aws4_request.</summary>
    public string Scope { get; private init; } = string.Empty;

    public bool Presigned { get; private init; }

    /// <summary>The names of the headers the signature covers (lower case).</summary>
    public IReadOnlyList<string> SignedHeaders { get; private init; } = [];

    internal static SignatureCheck Fail(S3Exception error) => new() { Error = error };

    internal static SignatureCheck Ok(StoreCredential credential, string payloadHash, string signature, byte[] signingKey, string amzDate, string scope, bool presigned, string[] signedHeaders) =>
        new()
        {
            Credential = credential,
            PayloadHash = payloadHash,
            Signature = signature,
            SigningKey = signingKey,
            AmzDate = amzDate,
            Scope = scope,
            Presigned = presigned,
            SignedHeaders = signedHeaders,
        };

    internal static SignatureCheck OkV2(StoreCredential credential, string payloadHash, bool presigned, string[] signedHeaders) =>
        new()
        {
            Version = 2,
            Credential = credential,
            PayloadHash = payloadHash,
            Presigned = presigned,
            SignedHeaders = signedHeaders,
        };
}
