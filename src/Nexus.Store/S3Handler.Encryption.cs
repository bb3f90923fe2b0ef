// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http;

namespace Nexus.Store;

/// <summary>
/// The server-side encryption options of a write, taken and reported as S3 does. The store keeps an object's bytes in
/// its data directory as written and encrypts nothing itself (at-rest encryption is the file system's job); what it
/// gives is what a client sees of S3's encryption, so code written for S3 runs unchanged: SSE-S3 (<c>AES256</c>) and
/// SSE-KMS (<c>aws:kms</c>, <c>aws:kms:dsse</c>) are recorded with the object and reported on the write's answer, on
/// GET and HEAD and on the multipart calls, with the KMS key (the one named, else <see cref="DefaultKmsKey"/>, the
/// store's stand-in for the account's <c>aws/s3</c> key) and the bucket-key flag. No KMS is asked: a key is not
/// checked to exist or to allow the caller, and an encryption context is checked for its form only and not kept.
/// SSE-C (the client's own key) is taken as S3 takes it, and the key's MD5 kept (never the key): every read of the
/// object, as a copy's source too, and every part written to its upload must state the same key, as S3 needs it to
/// decrypt; the bytes are kept as written.
/// </summary>
internal sealed partial class S3Handler
{
    private const string EncryptionHeader = "x-amz-server-side-encryption";
    private const string KmsKeyIdHeader = "x-amz-server-side-encryption-aws-kms-key-id";
    private const string KmsContextHeader = "x-amz-server-side-encryption-context";
    private const string BucketKeyHeader = "x-amz-server-side-encryption-bucket-key-enabled";
    private const string CustomerAlgorithmHeader = "x-amz-server-side-encryption-customer-algorithm";
    private const string CustomerKeyHeader = "x-amz-server-side-encryption-customer-key";
    private const string CustomerKeyMd5Header = "x-amz-server-side-encryption-customer-key-MD5";

    /// <summary>KMS takes key ids, key ARNs, alias names and alias ARNs up to 2048 characters.</summary>
    private const int MaxKmsKeyIdLength = 2048;

    /// <summary>The account's AWS-managed S3 key, which S3 uses for SSE-KMS when the write names none (as an alias ARN).</summary>
    private string DefaultKmsKey => $"arn:aws:kms:{_options.Region}:000000000000:alias/aws/s3";

    private static bool IsEncryptionOption(string header) =>
        header.Equals(EncryptionHeader, StringComparison.OrdinalIgnoreCase) || header.Equals(KmsKeyIdHeader, StringComparison.OrdinalIgnoreCase)
        || header.Equals(KmsContextHeader, StringComparison.OrdinalIgnoreCase) || header.Equals(BucketKeyHeader, StringComparison.OrdinalIgnoreCase)
        || header.Equals(CustomerAlgorithmHeader, StringComparison.OrdinalIgnoreCase) || header.Equals(CustomerKeyMd5Header, StringComparison.OrdinalIgnoreCase);

    /// <summary>The encryption options of a write's <paramref name="headers"/>, validated, added to the headers to store.</summary>
    private void AddEncryption(IHeaderDictionary headers, List<KeyValuePair<string, string>> stored)
    {
        var encryption = headers[EncryptionHeader].ToString();
        var keyId = headers[KmsKeyIdHeader].ToString();
        var context = headers[KmsContextHeader].ToString();
        var bucketKey = headers[BucketKeyHeader].ToString();
        var kms = encryption is "aws:kms" or "aws:kms:dsse";
        if (encryption.Length > 0 && !kms && encryption != "AES256")
        {
            throw S3Errors.InvalidArgument($"The encryption method specified is not supported: '{encryption}'; use AES256, aws:kms or aws:kms:dsse.");
        }

        if (!kms && (keyId.Length > 0 || context.Length > 0))
        {
            // S3's words: a KMS key or context means SSE-KMS, which the write must state.
            throw S3Errors.InvalidArgument($"Server Side Encryption with AWS KMS managed key requires HTTP header {EncryptionHeader} : aws:kms");
        }

        if (bucketKey.Length > 0 && !bool.TryParse(bucketKey, out _))
        {
            throw S3Errors.InvalidArgument($"{BucketKeyHeader} must be true or false, not '{bucketKey}'.");
        }

        if (encryption.Length > 0)
        {
            stored.Add(new(EncryptionHeader, encryption));
        }

        if (kms)
        {
            stored.Add(new(KmsKeyIdHeader, keyId.Length > 0 ? CheckKmsKeyId(keyId) : DefaultKmsKey));
            if (context.Length > 0)
            {
                CheckKmsContext(context);
            }

            if (bool.TryParse(bucketKey, out var enabled) && enabled)
            {
                stored.Add(new(BucketKeyHeader, "true"));
            }
        }

        if (CustomerKeyMd5(headers) is { } keyMd5)
        {
            if (encryption.Length > 0)
            {
                throw S3Errors.InvalidArgument($"Server Side Encryption with Customer provided key is incompatible with the encryption method specified ({EncryptionHeader}: {encryption}).");
            }

            stored.Add(new(CustomerAlgorithmHeader, "AES256"));
            stored.Add(new(CustomerKeyMd5Header, keyMd5));
        }
    }

    /// <summary>S3 echoes a write's encryption (SSE-KMS with its key and bucket-key flag, SSE-C with its key's MD5) on PUT, copy and multipart answers.</summary>
    private static void WriteEncryption(HttpResponse response, IEnumerable<KeyValuePair<string, string>> stored)
    {
        foreach (var (name, value) in stored)
        {
            if (name is EncryptionHeader or KmsKeyIdHeader or BucketKeyHeader or CustomerAlgorithmHeader or CustomerKeyMd5Header)
            {
                response.Headers[name] = value;
            }
        }
    }

    private static string CheckKmsKeyId(string keyId)
    {
        if (keyId.Length > MaxKmsKeyIdLength || !keyId.All(c => c is > ' ' and < '\x7f'))
        {
            throw S3Errors.InvalidArgument($"{KmsKeyIdHeader} must be a KMS key id, key ARN, alias name or alias ARN: at most {MaxKmsKeyIdLength} printable ASCII characters without spaces.");
        }

        return keyId;
    }

    /// <summary>S3's form of an encryption context: base64 of a JSON object whose values are strings.</summary>
    private static void CheckKmsContext(string context)
    {
        var error = S3Errors.InvalidArgument($"The header '{KmsContextHeader}' shall be Base64-encoded UTF-8 string holding JSON which represents a string-string map");
        var bytes = new byte[Base64.GetMaxDecodedFromUtf8Length(context.Length)];
        if (!Convert.TryFromBase64String(context, bytes, out var length))
        {
            throw error;
        }

        try
        {
            using var json = JsonDocument.Parse(bytes.AsMemory(0, length));
            if (json.RootElement.ValueKind != JsonValueKind.Object || json.RootElement.EnumerateObject().Any(p => p.Value.ValueKind != JsonValueKind.String))
            {
                throw error;
            }
        }
        catch (JsonException)
        {
            throw error;
        }
    }

    /// <summary>
    /// The SSE-C key a request states (its algorithm, key and key-MD5 headers; a copy's source key under
    /// <c>x-amz-copy-source-</c>), checked as S3 checks it, as the base64 MD5 of the key; null when it states none.
    /// </summary>
    private static string? CustomerKeyMd5(IHeaderDictionary headers, bool copySource = false)
    {
        string Name(string header) => copySource ? "x-amz-copy-source-" + header["x-amz-".Length..] : header;
        var algorithm = headers[Name(CustomerAlgorithmHeader)].ToString();
        var key = headers[Name(CustomerKeyHeader)].ToString();
        var md5 = headers[Name(CustomerKeyMd5Header)].ToString();
        if (algorithm.Length == 0 && key.Length == 0 && md5.Length == 0)
        {
            return null;
        }

        if (algorithm.Length == 0)
        {
            throw S3Errors.InvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm.");
        }

        if (algorithm != "AES256")
        {
            throw new S3Exception(400, "InvalidEncryptionAlgorithmError", "The Encryption request you specified is not valid. Supported value: AES256.");
        }

        if (key.Length == 0)
        {
            throw S3Errors.InvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide an appropriate secret key.");
        }

        Span<byte> keyBytes = stackalloc byte[48];
        if (!Convert.TryFromBase64String(key, keyBytes, out var keyLength) || keyLength != 32)
        {
            throw S3Errors.InvalidArgument("The secret key was invalid for the specified algorithm.");
        }

        if (md5.Length == 0)
        {
            throw S3Errors.InvalidArgument("Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key.");
        }

        var computed = Convert.ToBase64String(MD5.HashData(keyBytes[..keyLength]));
        return md5 == computed
            ? computed
            : throw S3Errors.InvalidArgument("The calculated MD5 hash of the key did not match the hash that was provided.");
    }

    /// <summary>
    /// A read of an object (or a part written to an upload) stored with SSE-C must state the same key, as S3 needs it
    /// to decrypt; one stored without must state none. The store compares the MD5 of the key stated with the one kept
    /// (it keeps no key).
    /// </summary>
    private static void CheckCustomerKey(IHeaderDictionary headers, IEnumerable<KeyValuePair<string, string>> stored, bool copySource = false)
    {
        var stated = CustomerKeyMd5(headers, copySource);
        var kept = stored.FirstOrDefault(h => h.Key == CustomerKeyMd5Header).Value;
        if (kept is null)
        {
            if (stated is not null)
            {
                throw S3Errors.InvalidRequest("The encryption parameters are not applicable to this object.");
            }

            return;
        }

        if (stated is null)
        {
            throw S3Errors.InvalidRequest("The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object.");
        }

        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stated), Encoding.ASCII.GetBytes(kept)))
        {
            throw new S3Exception(403, "AccessDenied", "The SSE-C key provided is not the key the object was stored with.");
        }
    }
}
