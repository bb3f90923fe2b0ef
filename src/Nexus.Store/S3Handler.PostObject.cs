// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Nexus.Store;

internal sealed partial class S3Handler
{
    private const int MaxFormFields = 64;
    private const int MaxFormFieldBytes = 20 * 1024;
    private const string FileNamePlaceholder = "${filename}";

    /// <summary>The form fields a PUT would send as storage-option headers (storage class, encryption, object lock).</summary>
    private static readonly string[] s_formStorageFields =
    [
        StorageClassHeader, EncryptionHeader, KmsKeyIdHeader, KmsContextHeader, BucketKeyHeader, CustomerAlgorithmHeader, CustomerKeyHeader, CustomerKeyMd5Header,
        "x-amz-object-lock-mode", "x-amz-object-lock-retain-until-date", "x-amz-object-lock-legal-hold",
    ];

    /// <summary>The signature's own fields, which no policy condition names (the policy itself is one of them).</summary>
    private static readonly string[] s_sigV4FormSignatureFields = ["x-amz-signature"];

    private static readonly string[] s_sigV2FormSignatureFields = ["awsaccesskeyid", "signature"];

    /// <summary>A browser-form POST upload: POST /bucket, multipart/form-data, signed by its policy instead of the request.</summary>
    private static bool IsFormUpload(HttpRequest request, string rawPath, int queryStart) =>
        HttpMethods.IsPost(request.Method) && queryStart < 0 && rawPath.TrimEnd('/').LastIndexOf('/') == 0 && rawPath.Length > 1
        && (request.ContentType?.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase) ?? false);

    /// <summary>
    /// PostObject: the form's fields (before the file part, as S3 reads them) carry the key, the policy and its SigV4
    /// signature (x-amz-algorithm, x-amz-credential, x-amz-date, x-amz-signature) or SigV2 one (AWSAccessKeyId,
    /// signature: <see cref="SigV2Verifier.VerifyPost"/>); the policy's conditions are checked
    /// (<see cref="PostPolicy"/>), then the credential's grant on the key, then the file is stored like a PutObject
    /// body (Content-Type, x-amz-meta-* and a tagging document from the form). Answers 303 to success_action_redirect
    /// when it is an http(s) URL, else 204, or success_action_status 200 / 201 (201 with S3's PostResponse document).
    /// </summary>
    private async Task PostObjectAsync(HttpContext context, string bucketName)
    {
        var request = context.Request;
        var aborted = context.RequestAborted;
        S3Names.CheckBucketName(bucketName);
        var boundary = HeaderUtilities.RemoveQuotes(MediaTypeHeaderValue.Parse(request.ContentType).Boundary).Value;
        if (string.IsNullOrEmpty(boundary))
        {
            throw MalformedPost("the multipart/form-data content type has no boundary");
        }

        var reader = new MultipartReader(boundary, request.Body) { BodyLengthLimit = _options.MaxObjectSize };
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        MultipartSection? file = null;
        string? fileName = null;
        while (await reader.ReadNextSectionAsync(aborted) is { } section)
        {
            if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition) || disposition.Name.Value is not { } rawName)
            {
                throw MalformedPost("a form part has no Content-Disposition name");
            }

            var name = HeaderUtilities.RemoveQuotes(rawName).Value!.ToLowerInvariant();
            if (name == "file")
            {
                file = section;
                fileName = HeaderUtilities.RemoveQuotes(disposition.FileName).Value ?? "";
                break;
            }

            if (fields.Count == MaxFormFields)
            {
                throw MalformedPost($"more than {MaxFormFields} form fields");
            }

            fields[name] = await ReadFieldAsync(section, name, aborted);
        }

        if (file is null)
        {
            throw new S3Exception(400, "InvalidArgument", "POST requires exactly one file upload per request (the form has no \"file\" part).");
        }

        var sigV2 = fields.ContainsKey("awsaccesskeyid");
        if (sigV2 && fields.ContainsKey("x-amz-credential"))
        {
            throw new S3Exception(400, "InvalidArgument", "The form carries both a Signature Version 2 (AWSAccessKeyId) and a Version 4 (x-amz-credential) signature; send one.");
        }

        var credential = sigV2 ? _sigV2.VerifyPost(fields) : VerifyPostSignature(fields);
        var policy = PostPolicy.Parse(fields["policy"]);
        if (!fields.TryGetValue("key", out var key))
        {
            throw new S3Exception(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.");
        }

        key = key.Replace(FileNamePlaceholder, fileName, StringComparison.Ordinal);
        S3Names.CheckKey(key);
        var checkedFields = new Dictionary<string, string>(fields, StringComparer.Ordinal) { ["key"] = key, ["bucket"] = bucketName };
        policy.Check(checkedFields, _options.TimeProvider.GetUtcNow(), sigV2 ? s_sigV2FormSignatureFields : s_sigV4FormSignatureFields);
        if (credential.Authorize is { } authorize && !authorize(new StoreRequestScope(bucketName, key, IsWrite: true)))
        {
            throw S3Errors.NotGranted(bucketName, key, isWrite: true);
        }

        // As on a PUT: ACLs are disabled, so a form may state only the owner's full control (checked before the file is read).
        if (fields.TryGetValue("acl", out var acl) && acl.Trim() != OwnerFullControl)
        {
            throw AclNotSupported();
        }

        // Storage class, encryption and object lock as on a PUT (the same refusals), before the file is read.
        var storageOptions = new HeaderDictionary();
        foreach (var name in s_formStorageFields)
        {
            if (fields.TryGetValue(name, out var value))
            {
                storageOptions[name] = value;
            }
        }

        RefuseObjectLockHeaders(storageOptions);
        var storedOptions = new List<KeyValuePair<string, string>>();
        AddStorageOptions(storageOptions, storedOptions);

        // The tag set is checked before the file is read: a bad one stores nothing.
        var tags = fields.TryGetValue("tagging", out var tagging)
            ? ObjectTags.ParseDocument(await S3Xml.ReadAsync(new MemoryStream(Encoding.UTF8.GetBytes(tagging)), MaxFormFieldBytes, "PostObject tagging", aborted))
            : [];
        var bucket = _store.GetBucket(bucketName);
        await using var pending = _store.BeginWrite();
        var max = policy.LengthRange?.Max ?? _options.MaxObjectSize;
        var buffer = new byte[128 * 1024];
        int n;
        while ((n = await file.Body.ReadAsync(buffer, aborted)) > 0)
        {
            if (pending.Length + n > max)
            {
                throw new S3Exception(400, "EntityTooLarge", $"Your proposed upload exceeds the maximum allowed size: more than {max} bytes.");
            }

            await pending.WriteAsync(buffer.AsMemory(0, n), aborted);
        }

        if (policy.LengthRange is { } range && pending.Length < range.Min)
        {
            throw new S3Exception(400, "EntityTooSmall", $"Your proposed upload is smaller than the minimum allowed size: {pending.Length} < {range.Min} bytes.");
        }

        var metadata = fields.Where(f => f.Key.StartsWith("x-amz-meta-", StringComparison.Ordinal)).OrderBy(f => f.Key, StringComparer.Ordinal).ToList();
        var headers = s_storedHeaders.Where(h => fields.ContainsKey(h.ToLowerInvariant())).Select(h => new KeyValuePair<string, string>(h, fields[h.ToLowerInvariant()])).ToList();
        headers.AddRange(storedOptions);
        CheckWebsiteRedirect(headers);
        var contentType = fields.GetValueOrDefault("content-type") is { Length: > 0 } type ? type : "binary/octet-stream";
        var info = new ObjectInfo(key, pending.Length, pending.Md5Hex(), _options.TimeProvider.GetUtcNow(), contentType, headers, metadata, tags);
        var entry = _store.CommitObject(bucket, pending, info);

        var response = context.Response;
        var location = $"/{bucketName}/{SigV4.UriEncode(key, keepSlash: true)}";
        response.Headers.ETag = Quote(entry.ETag);
        if (RedirectTarget(fields) is { } redirect)
        {
            // S3 sends the browser on with the upload's bucket, key and ETag in the query.
            var query = $"bucket={Uri.EscapeDataString(bucketName)}&key={Uri.EscapeDataString(key)}&etag={Uri.EscapeDataString(Quote(entry.ETag))}";
            response.StatusCode = StatusCodes.Status303SeeOther;
            response.Headers.Location = redirect + (redirect.Contains('?', StringComparison.Ordinal) ? "&" : "?") + query;
            return;
        }

        response.Headers.Location = location;
        switch (fields.GetValueOrDefault("success_action_status"))
        {
            case "200":
                response.StatusCode = StatusCodes.Status200OK;
                break;
            case "201":
                response.StatusCode = StatusCodes.Status201Created;
                response.ContentType = XmlContentType;
                await response.WriteAsync(
                    new S3Xml("PostResponse").Element("Location", location).Element("Bucket", bucketName).Element("Key", key).Element("ETag", Quote(entry.ETag)).Finish("PostResponse"),
                    aborted);
                break;
            default:
                response.StatusCode = StatusCodes.Status204NoContent;
                break;
        }
    }

    /// <summary>
    /// success_action_redirect (or the older redirect) when it is an absolute http(s) URL; S3 ignores any other value and
    /// answers as if none were given.
    /// </summary>
    private static string? RedirectTarget(Dictionary<string, string> fields)
    {
        var target = fields.GetValueOrDefault("success_action_redirect") ?? fields.GetValueOrDefault("redirect");
        return Uri.TryCreate(target, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && uri.Fragment.Length == 0
            ? target
            : null;
    }

    /// <summary>The SigV4 POST signature: HMAC of the base64 policy with the signing key of the credential's scope.</summary>
    private StoreCredential VerifyPostSignature(Dictionary<string, string> fields)
    {
        string Field(string name) => fields.TryGetValue(name, out var value) ? value
            : throw S3Errors.AccessDenied($"the form has no '{name}' field (an anonymous POST upload is not allowed).");

        var policy = Field("policy");
        if (Field("x-amz-algorithm") != SigV4.Algorithm)
        {
            throw new S3Exception(400, "InvalidArgument", $"x-amz-algorithm must be {SigV4.Algorithm}.");
        }

        var scope = Field("x-amz-credential").Split('/');
        var amzDate = Field("x-amz-date");
        if (scope.Length != 5 || scope[3] != "s3" || scope[4] != "aws4_request" || !amzDate.StartsWith(scope[1], StringComparison.Ordinal)
            || !DateTime.TryParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out _))
        {
            throw new S3Exception(400, "InvalidArgument", "x-amz-credential must be KEY/yyyymmdd/region/s3/aws4_request, its date that of x-amz-date (yyyymmddTHHMMSSZ).");
        }

        if (scope[2] != _options.Region)
        {
            throw new S3Exception(400, "AuthorizationHeaderMalformed", $"the region '{scope[2]}' is wrong; expecting '{_options.Region}'.");
        }

        if (!_credentials.TryGet(scope[0], out var credential))
        {
            throw new S3Exception(403, "InvalidAccessKeyId", "The AWS Access Key Id you provided does not exist in our records.");
        }

        var expected = SigV4.Sign(SigV4.DeriveSigningKey(credential.SecretAccessKey, scope[1], scope[2], "s3"), policy);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(Field("x-amz-signature"))))
        {
            throw S3Errors.SignatureDoesNotMatch("(the POST policy's signature)");
        }

        return credential;
    }

    private static async Task<string> ReadFieldAsync(MultipartSection section, string name, CancellationToken aborted)
    {
        var buffer = new byte[MaxFormFieldBytes + 1];
        var length = 0;
        int n;
        while ((n = await section.Body.ReadAsync(buffer.AsMemory(length), aborted)) > 0)
        {
            length += n;
            if (length > MaxFormFieldBytes)
            {
                throw MalformedPost($"the form field '{name}' is longer than {MaxFormFieldBytes} bytes");
            }
        }

        return Encoding.UTF8.GetString(buffer, 0, length);
    }

    private static S3Exception MalformedPost(string why) => new(400, "MalformedPOSTRequest", "The body of your POST request is not well-formed multipart/form-data: " + why + ".");
}
