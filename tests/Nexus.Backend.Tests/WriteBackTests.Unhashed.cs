// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Net;
using System.Security.Cryptography;
using Amazon.S3;
using Nexus.Backend.Storage;
using Nexus.Backend.WriteBack;
using Nexus.Testing.Channel;

namespace Nexus.Backend.Tests;

/// <summary>An upload streams its body from the spool unhashed; the signed Content-MD5 is what keeps it whole.</summary>
public sealed partial class WriteBackTests
{
    /// <summary>
    /// Guards "the bytes stored are the bytes spooled" for an upload signed with UNSIGNED-PAYLOAD: its Content-MD5 is
    /// among the signed headers, and a body changed on the way (a handler between the queue and the store flips one
    /// byte) is refused by the store, so nothing lands and the write stays pending, while the same write unchanged lands
    /// byte for byte. Checked by leaving Content-MD5 out of the upload once: the changed body was stored (failed).
    /// </summary>
    [Fact]
    public async Task A_streamed_upload_is_unhashed_its_md5_signed_and_a_body_changed_on_the_way_never_lands()
    {
        await StartStoreAsync();
        using var admin = Admin();
        var body = new byte[1 << 20];
        new Random(7).NextBytes(body);

        var intact = new Interceptor(tamper: false);
        using (var http = new HttpClient(intact))
        await using (var queue = NewQueue(admin, http, Path.Combine(_root, "spool-intact")))
        {
            await queue.AcceptAsync(new JournalMeta(Bucket, "fn/intact.bin", "application/octet-stream", new Dictionary<string, string>()), new MemoryStream(body), body.Length, CancellationToken.None);
            Assert.Equal(0, await queue.DrainAsync(TimeSpan.FromMinutes(1)));
        }

        var put = Assert.Single(intact.Puts);
        Assert.Equal("UNSIGNED-PAYLOAD", put.PayloadHash);
        Assert.Contains("content-md5", put.SignedHeaders);
        Assert.Equal(HttpStatusCode.OK, put.Status);
        using (var stored = await admin.GetObjectAsync(Bucket, "fn/intact.bin"))
        {
            var read = new MemoryStream();
            await stored.ResponseStream.CopyToAsync(read);
            Assert.Equal(MD5.HashData(body), MD5.HashData(read.ToArray()));
        }

        var changed = new Interceptor(tamper: true);
        using (var http = new HttpClient(changed))
        await using (var queue = NewQueue(admin, http, Path.Combine(_root, "spool-changed")))
        {
            await queue.AcceptAsync(new JournalMeta(Bucket, "fn/changed.bin", "application/octet-stream", new Dictionary<string, string>()), new MemoryStream(body), body.Length, CancellationToken.None);
            Assert.Equal(1, await queue.DrainAsync(TimeSpan.FromSeconds(3)));
        }

        Assert.NotEmpty(changed.Puts);
        Assert.All(changed.Puts, p => Assert.Equal(HttpStatusCode.BadRequest, p.Status));
        var missing = await Assert.ThrowsAsync<AmazonS3Exception>(() => admin.GetObjectMetadataAsync(Bucket, "fn/changed.bin"));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    private WriteBackQueue NewQueue(IAmazonS3 admin, HttpClient http, string spool)
    {
        var direct = new DirectS3(new NexusBackendOptions { ServiceUrl = StoreUrl, AccessKey = NodeUnderTest.AccessKey, SecretKey = NodeUnderTest.SecretKey }, http);
        return new WriteBackQueue(admin, direct, new KnownBuckets(direct), spool, 1L << 30, 1, (_, _) => { }, _ => { });
    }

    /// <summary>Records each PutObject's payload hash, signed headers and answer; optionally flips one byte of its body.</summary>
    private sealed class Interceptor(bool tamper) : DelegatingHandler(new HttpClientHandler())
    {
        public List<(string PayloadHash, string[] SignedHeaders, HttpStatusCode Status)> Puts { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.Method != HttpMethod.Put)
            {
                return await base.SendAsync(request, cancellationToken);
            }

            var hash = string.Join(',', request.Headers.GetValues("x-amz-content-sha256"));
            var authorization = request.Headers.GetValues("Authorization").Single();
            var signed = authorization[(authorization.IndexOf("SignedHeaders=", StringComparison.Ordinal) + "SignedHeaders=".Length)..].Split(',')[0].Split(';');
            if (tamper)
            {
                var bytes = await request.Content!.ReadAsByteArrayAsync(cancellationToken);
                bytes[bytes.Length / 2] ^= 0xff;
                var replaced = new ByteArrayContent(bytes);
                foreach (var header in request.Content.Headers)
                {
                    replaced.Headers.TryAddWithoutValidation(header.Key, header.Value);
                }

                request.Content = replaced;
            }

            var response = await base.SendAsync(request, cancellationToken);
            lock (Puts)
            {
                Puts.Add((hash, signed, response.StatusCode));
            }

            return response;
        }
    }
}
