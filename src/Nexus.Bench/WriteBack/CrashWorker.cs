// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Nexus.Backend;
using Nexus.Backend.WriteBack;
using Nexus.Store;

namespace Nexus.Bench.WriteBack;

/// <summary>What one crash-trial worker process does (<c>nexus bench crash-worker</c>).</summary>
public sealed record CrashWorkerOptions
{
    public required string Directory { get; init; }

    /// <summary>This trial's number: its keys are <c>t{Trial}/...</c>; the previous trial's keys are checked first.</summary>
    public required int Trial { get; init; }

    public required int Seed { get; init; }

    /// <summary>One write-back put streams its body from a child process that is killed with SIGKILL mid-body.</summary>
    public bool KillSandbox { get; init; }

    /// <summary>Only recover and check the previous trial, then exit (the run's last step).</summary>
    public bool VerifyOnly { get; init; }
}

/// <summary>
/// The node's storage side in one process, as the node builds it: the embedded store (<see cref="S3StoreServer"/>) and
/// a <see cref="NexusBackend"/> whose write-back journal uploads to it. At start it recovers (journal replay, store
/// start-up), drains every recovered upload and prints what the store holds under the previous trial's prefix; then
/// it prints <c>ready</c> and writes until it is killed: four write-back writers and one writer each of plain and
/// multipart PUTs straight to the store, sharing keys so that overlapping writes of one key race. Every put is printed
/// before it starts (<c>issue</c>) and after it was acknowledged (<c>ack</c>), each line written through to the pipe, so
/// the parent knows every acknowledgement the kill could not take back.
/// </summary>
public static class CrashWorker
{
    public const string Bucket = "crash";
    private const string AccessKey = "crashtrialaccesskey";
    private const string SecretKey = "crashtrialsecretkey0000000000000000000000";
    private const int WriteBackWriters = 4;

    public static async Task<int> RunAsync(CrashWorkerOptions options, TextWriter output, CancellationToken cancellationToken)
    {
        var lines = TextWriter.Synchronized(output);
        var credentials = new StoreCredentials();
        credentials.Add(new StoreCredential(AccessKey, SecretKey));

        // Parts from 64 KiB (S3's 5 MiB minimum would make each trial write megabytes for one multipart upload).
        await using var store = await S3StoreServer.StartAsync(
            new StoreOptions { DataDirectory = Path.Combine(options.Directory, "store"), Urls = ["http://127.0.0.1:0"], MinPartSize = 64 << 10 },
            credentials,
            ct: cancellationToken).ConfigureAwait(false);
        var url = store.BoundAddresses[0].ToString().TrimEnd('/');
        await using var backend = new NexusBackend(new NexusBackendOptions
        {
            ServiceUrl = url,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            SpoolDirectory = Path.Combine(options.Directory, "spool"),
            Log = line => Console.Error.WriteLine("worker: " + line),
        });
        using var s3 = new AmazonS3Client(new BasicAWSCredentials(AccessKey, SecretKey), new AmazonS3Config { ServiceURL = url, ForcePathStyle = true, AuthenticationRegion = "us-east-1", UseHttp = true });
        if (!(await s3.ListBucketsAsync(cancellationToken).ConfigureAwait(false)).Buckets?.Any(b => b.BucketName == Bucket) ?? true)
        {
            await s3.PutBucketAsync(Bucket, cancellationToken).ConfigureAwait(false);
        }

        if (options.Trial > 0)
        {
            var left = await backend.WriteBack!.DrainAsync(TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            var count = 0;
            foreach (var key in await ListAsync(s3, $"t{options.Trial - 1}/", cancellationToken).ConfigureAwait(false))
            {
                using var get = await s3.GetObjectAsync(Bucket, key, cancellationToken).ConfigureAwait(false);
                var md5 = Convert.ToHexStringLower(await MD5.HashDataAsync(get.ResponseStream, cancellationToken).ConfigureAwait(false));
                lines.WriteLine($"verify {key} {md5}");
                count++;
            }

            lines.WriteLine(string.Create(CultureInfo.InvariantCulture, $"verified {count} {left}"));
        }

        if (options.VerifyOnly)
        {
            return 0;
        }

        // One put of each kind first, outside the trials' keys: the kill window then covers writing, not start-up.
        await backend.WriteBack!.AcceptAsync(new JournalMeta(Bucket, "warm-up/write-back", null, new Dictionary<string, string>()), new MemoryStream(new byte[100]), 100, cancellationToken).ConfigureAwait(false);
        await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = "warm-up/put", InputStream = new MemoryStream(new byte[100]) }, cancellationToken).ConfigureAwait(false);
        lines.WriteLine("ready");
        var random = new Random(options.Seed);
        var writers = Enumerable.Range(0, WriteBackWriters)
            .Select(w => WriteBackLoopAsync(backend, options, w, new Random(random.Next()), lines, cancellationToken))
            .Append(DirectLoopAsync(s3, options, new Random(random.Next()), lines, cancellationToken))
            .Append(MultipartLoopAsync(s3, options, new Random(random.Next()), lines, cancellationToken));
        await Task.WhenAll(writers).ConfigureAwait(false);
        return 0;
    }

    private static async Task<List<string>> ListAsync(IAmazonS3 s3, string prefix, CancellationToken ct)
    {
        var keys = new List<string>();
        string? token = null;
        do
        {
            var page = await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = prefix, ContinuationToken = token }, ct).ConfigureAwait(false);
            keys.AddRange(page.S3Objects?.Select(o => o.Key) ?? []);
            token = page.IsTruncated == true ? page.NextContinuationToken : null;
        }
        while (token is not null);
        return keys;
    }

    private static async Task WriteBackLoopAsync(NexusBackend backend, CrashWorkerOptions options, int writer, Random random, TextWriter lines, CancellationToken ct)
    {
        var queue = backend.WriteBack!;
        for (var n = 0; ; n++)
        {
            var id = $"wb{writer}.{n}";
            var key = $"t{options.Trial}/wb/k{random.Next(6)}";
            if (options.KillSandbox && writer == 0 && n == 0)
            {
                // The sandbox dies mid-request: its body stops after half the bytes and the put fails.
                lines.WriteLine($"issue {id} {key} -");
                using var sandbox = StartDyingSandbox(64 << 10);
                try
                {
                    await queue.AcceptAsync(new JournalMeta(Bucket, key, null, new Dictionary<string, string>()), sandbox.StandardOutput.BaseStream, 128 << 10, ct).ConfigureAwait(false);
                    lines.WriteLine($"ack {id}");
                }
                catch (EndOfStreamException)
                {
                    lines.WriteLine($"aborted {id}");
                }

                continue;
            }

            var body = Body(random);
            lines.WriteLine($"issue {id} {key} {Convert.ToHexStringLower(MD5.HashData(body))}");
            if (await queue.AcceptAsync(new JournalMeta(Bucket, key, null, new Dictionary<string, string>()), new MemoryStream(body), body.Length, ct).ConfigureAwait(false) is null)
            {
                throw new InvalidOperationException("the spool refused a put (full): the trial writes far less than its cap");
            }

            lines.WriteLine($"ack {id}");
        }
    }

    private static async Task DirectLoopAsync(IAmazonS3 s3, CrashWorkerOptions options, Random random, TextWriter lines, CancellationToken ct)
    {
        for (var n = 0; ; n++)
        {
            var id = $"put.{n}";
            var key = $"t{options.Trial}/put/k{random.Next(3)}";
            var body = Body(random);
            lines.WriteLine($"issue {id} {key} {Convert.ToHexStringLower(MD5.HashData(body))}");
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = Bucket, Key = key, InputStream = new MemoryStream(body) }, ct).ConfigureAwait(false);
            lines.WriteLine($"ack {id}");
        }
    }

    private static async Task MultipartLoopAsync(IAmazonS3 s3, CrashWorkerOptions options, Random random, TextWriter lines, CancellationToken ct)
    {
        for (var n = 0; ; n++)
        {
            var id = $"mpu.{n}";
            var key = $"t{options.Trial}/mpu/k{random.Next(2)}";
            var first = new byte[64 << 10];
            random.NextBytes(first);
            var second = Body(random);
            lines.WriteLine($"issue {id} {key} {Convert.ToHexStringLower(MD5.HashData([.. first, .. second]))}");
            var upload = await s3.InitiateMultipartUploadAsync(Bucket, key, ct).ConfigureAwait(false);
            var parts = new List<PartETag>();
            foreach (var (number, part) in new[] { (1, first), (2, second) })
            {
                var uploaded = await s3.UploadPartAsync(new UploadPartRequest { BucketName = Bucket, Key = key, UploadId = upload.UploadId, PartNumber = number, InputStream = new MemoryStream(part) }, ct).ConfigureAwait(false);
                parts.Add(new PartETag(number, uploaded.ETag));
            }

            await s3.CompleteMultipartUploadAsync(new CompleteMultipartUploadRequest { BucketName = Bucket, Key = key, UploadId = upload.UploadId, PartETags = parts }, ct).ConfigureAwait(false);
            lines.WriteLine($"ack {id}");
        }
    }

    /// <summary>
    /// A child process that writes <paramref name="half"/> random bytes of a put body to its stdout and is killed with
    /// SIGKILL 50 ms later: the body ends early, as when a sandbox dies mid-request.
    /// </summary>
    private static Process StartDyingSandbox(long half)
    {
        var start = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[] { "-c", $"head -c {half} /dev/urandom; exec sleep 60" })
        {
            start.ArgumentList.Add(arg);
        }

        var sandbox = Process.Start(start)!;
        _ = Task.Delay(50).ContinueWith(
            _ =>
            {
                try
                {
                    sandbox.Kill();
                }
                catch (InvalidOperationException)
                {
                    // Already gone.
                }
            },
            TaskScheduler.Default);
        return sandbox;
    }

    private static byte[] Body(Random random)
    {
        // Mostly small (the common put), now and then up to 256 KiB.
        var body = new byte[random.Next(8) == 0 ? random.Next(256 << 10) : random.Next(8 << 10)];
        random.NextBytes(body);
        return body;
    }
}
