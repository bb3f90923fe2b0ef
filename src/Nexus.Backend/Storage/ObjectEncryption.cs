// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Text.Json;
using Amazon.S3;

namespace Nexus.Backend.Storage;

/// <summary>
/// The server-side encryption storage reports for an object or a write: the method, and for SSE-KMS the key and the
/// bucket-key flag (boto3's ServerSideEncryption, SSEKMSKeyId, BucketKeyEnabled).
/// </summary>
internal readonly record struct ObjectEncryption(string? Method, string? KmsKeyId, bool? BucketKeyEnabled)
{
    public static ObjectEncryption Of(ServerSideEncryptionMethod? method, string? kmsKeyId, bool? bucketKeyEnabled) =>
        new(method?.Value, kmsKeyId, bucketKeyEnabled);

    /// <summary>From the store's response headers (a request the backend sent itself).</summary>
    public static ObjectEncryption Of(Func<string, string?> header) => new(
        header("x-amz-server-side-encryption"),
        header("x-amz-server-side-encryption-aws-kms-key-id"),
        bool.TryParse(header("x-amz-server-side-encryption-bucket-key-enabled"), out var enabled) ? enabled : null);

    /// <summary>The fields boto3 returns, each only when storage reported it.</summary>
    public void Write(Utf8JsonWriter w)
    {
        if (Method is not { Length: > 0 } method || method == "None")
        {
            return;
        }

        w.WriteString("ServerSideEncryption", method);
        if (KmsKeyId is { Length: > 0 } key)
        {
            w.WriteString("SSEKMSKeyId", key);
        }

        if (BucketKeyEnabled is { } enabled)
        {
            w.WriteBoolean("BucketKeyEnabled", enabled);
        }
    }
}
