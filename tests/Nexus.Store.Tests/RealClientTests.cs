// Copyright (c) Nexus contributors.
// Licensed under the MIT license.

using System.Diagnostics;
using System.Security.Cryptography;
using Nexus.Testing;

namespace Nexus.Store.Tests;

/// <summary>The store against the two clients the baseline path and users run: Debian's boto3 and the AWS CLI.</summary>
public sealed class RealClientTests : IClassFixture<StoreFixture>
{
    private readonly StoreFixture _store;

    public RealClientTests(StoreFixture store)
    {
        _store = store;
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, IEnumerable<string> args, IDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    private Dictionary<string, string> AwsEnvironment(string home) => new()
    {
        ["AWS_ACCESS_KEY_ID"] = StoreFixture.AccessKey,
        ["AWS_SECRET_ACCESS_KEY"] = StoreFixture.SecretKey,
        ["AWS_DEFAULT_REGION"] = "us-east-1",
        ["AWS_CONFIG_FILE"] = Path.Combine(home, "config"),
        ["AWS_SHARED_CREDENTIALS_FILE"] = Path.Combine(home, "credentials"),
        ["AWS_EC2_METADATA_DISABLED"] = "true",
        ["AWS_PAGER"] = string.Empty,
        ["HOME"] = home,
        ["NEXUS_S3_ENDPOINT"] = _store.Endpoint.ToString().TrimEnd('/'),
        ["NEXUS_TEST_KEY"] = StoreFixture.AccessKey,
        ["NEXUS_TEST_SECRET"] = StoreFixture.SecretKey,
    };

    [RealClientsFact]
    public async Task Boto3ExercisesTheS3Surface()
    {
        var home = Directory.CreateTempSubdirectory("nexus-boto3-").FullName;
        try
        {
            var environment = AwsEnvironment(home);
            environment["NEXUS_TEST_BUCKET"] = "boto3-" + Guid.NewGuid().ToString("N")[..10];
            var script = Path.Combine(HostRequirements.RepoRoot, "tests", "Nexus.Store.Tests", "clients", "boto3_check.py");
            var (exit, output) = await RunAsync(HostRequirements.DebianPython, [script], environment);
            Assert.True(exit == 0, output);
            Assert.Contains("boto3: all checks passed", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }

    [RealClientsFact]
    public async Task AwsCliCopiesListsAndRemovesIncludingMultipart()
    {
        var home = Directory.CreateTempSubdirectory("nexus-awscli-").FullName;
        try
        {
            var environment = AwsEnvironment(home);
            var endpoint = environment["NEXUS_S3_ENDPOINT"];
            var bucket = "cli-" + Guid.NewGuid().ToString("N")[..10];

            async Task<string> Aws(params string[] args)
            {
                var (exit, output) = await RunAsync(HostRequirements.AwsCli, ["--endpoint-url", endpoint, .. args], environment);
                Assert.True(exit == 0, $"aws {string.Join(' ', args)} exited {exit}: {output}");
                return output;
            }

            await Aws("s3", "mb", "s3://" + bucket);
            var big = Path.Combine(home, "big.bin");
            var content = RandomNumberGenerator.GetBytes(9 * 1024 * 1024);
            await File.WriteAllBytesAsync(big, content);
            var small = Path.Combine(home, "small name.txt");
            await File.WriteAllTextAsync(small, "small file");

            await Aws("s3", "cp", big, $"s3://{bucket}/data/big.bin");
            await Aws("s3", "cp", small, $"s3://{bucket}/data/small name.txt");
            var head = await Aws("s3api", "head-object", "--bucket", bucket, "--key", "data/big.bin");
            Assert.Contains("-2\\\"", head, StringComparison.Ordinal); // 9 MiB in 8 MiB parts: a two-part multipart ETag.

            // Checksum mode, as S3: the small file went up as one PutObject without a checksum, so it keeps the store's
            // CRC-64/NVME (this CLI predates that algorithm and prints the raw header's value only in debug output).
            var checksummed = await Aws("s3api", "head-object", "--bucket", bucket, "--key", "data/small name.txt", "--checksum-mode", "ENABLED", "--debug");
            var crc = new byte[8];
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(crc, Nexus.Interop.Crc64Nvme.Append(0, "small file"u8));
            Assert.Contains("'x-amz-checksum-crc64nvme': '" + Convert.ToBase64String(crc) + "'", checksummed, StringComparison.Ordinal);

            var listing = await Aws("s3", "ls", $"s3://{bucket}/data/");
            Assert.Contains("big.bin", listing, StringComparison.Ordinal);
            Assert.Contains("small name.txt", listing, StringComparison.Ordinal);
            var recursive = await Aws("s3", "ls", "--recursive", $"s3://{bucket}");
            Assert.Contains(content.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), recursive, StringComparison.Ordinal);

            var back = Path.Combine(home, "back.bin");
            await Aws("s3", "cp", $"s3://{bucket}/data/big.bin", back);
            Assert.Equal(SHA256.HashData(content), SHA256.HashData(await File.ReadAllBytesAsync(back)));

            var objects = await Aws("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "data/", "--delimiter", "/");
            Assert.Contains("data/small name.txt", objects, StringComparison.Ordinal);

            await Aws("s3api", "put-object-tagging", "--bucket", bucket, "--key", "data/big.bin", "--tagging", "TagSet=[{Key=stage,Value=cli}]");
            Assert.Contains("\"cli\"", await Aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "data/big.bin"), StringComparison.Ordinal);
            await Aws("s3api", "put-object", "--bucket", bucket, "--key", "data/cls", "--body", small, "--storage-class", "STANDARD_IA", "--tagging", "a=1&b=2", "--cache-control", "no-store");
            var cls = await Aws("s3api", "get-object", "--bucket", bucket, "--key", "data/cls", Path.Combine(home, "cls.out"));
            Assert.Contains("\"StorageClass\": \"STANDARD_IA\"", cls, StringComparison.Ordinal);
            Assert.Contains("\"TagCount\": 2", cls, StringComparison.Ordinal);
            Assert.Contains("\"CacheControl\": \"no-store\"", cls, StringComparison.Ordinal);
            await Aws("s3api", "delete-object-tagging", "--bucket", bucket, "--key", "data/big.bin");
            Assert.Contains("\"TagSet\": []", await Aws("s3api", "get-object-tagging", "--bucket", bucket, "--key", "data/big.bin"), StringComparison.Ordinal);

            // `aws s3 presign` (this CLI signs with Signature Version 4; AWS CLI v1 needs s3.signature_version s3v4).
            using var http = new HttpClient();
            var presigned = (await Aws("s3", "presign", $"s3://{bucket}/data/cls", "--expires-in", "60")).Trim();
            Assert.Contains("X-Amz-Signature=", presigned, StringComparison.Ordinal);
            Assert.Equal("small file", await http.GetStringAsync(presigned));

            await Aws("s3", "rm", "--recursive", $"s3://{bucket}/data/");
            var empty = await Aws("s3api", "list-objects-v2", "--bucket", bucket);
            Assert.DoesNotContain("\"Key\"", empty, StringComparison.Ordinal);
            await Aws("s3", "rb", "s3://" + bucket);
            var buckets = await Aws("s3api", "list-buckets");
            Assert.DoesNotContain(bucket, buckets, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(home, recursive: true);
        }
    }
}
