"""Drives the Nexus store with Debian's boto3 (the baseline sandboxes' client); exits non-zero on the first mismatch."""
import datetime
import hashlib
import os
import sys
import urllib.error
import urllib.request
import zlib

import boto3
import botocore.exceptions
from botocore.config import Config

endpoint = os.environ["NEXUS_S3_ENDPOINT"]
bucket = os.environ["NEXUS_TEST_BUCKET"]


def client(secret=None):
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id=os.environ["NEXUS_TEST_KEY"],
        aws_secret_access_key=secret or os.environ["NEXUS_TEST_SECRET"],
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )


def error_code(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
    raise AssertionError("expected an error")


def check(label, actual, expected):
    if actual != expected:
        print(f"FAIL {label}: expected {expected!r}, got {actual!r}")
        sys.exit(1)
    print(f"ok {label}")


s3 = client()
s3.create_bucket(Bucket=bucket)
check("head_bucket", s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"], 200)
check("location", s3.get_bucket_location(Bucket=bucket).get("LocationConstraint"), None)

odd = "dir/a+b c&d=e?ü~%.txt"
s3.put_object(Bucket=bucket, Key=odd, Body=b"hello boto3", ContentType="text/plain", Metadata={"owner": "nexus"})
got = s3.get_object(Bucket=bucket, Key=odd)
check("get body", got["Body"].read(), b"hello boto3")
check("content type", got["ContentType"], "text/plain")
check("metadata", got["Metadata"], {"owner": "nexus"})
check("etag", got["ETag"], '"' + hashlib.md5(b"hello boto3").hexdigest() + '"')
check("range", s3.get_object(Bucket=bucket, Key=odd, Range="bytes=-6")["Body"].read(), b" boto3")
check("head missing", error_code(lambda: s3.head_object(Bucket=bucket, Key="nope")), "404")
check("get missing", error_code(lambda: s3.get_object(Bucket=bucket, Key="nope")), "NoSuchKey")
check("if-none-match", error_code(lambda: s3.get_object(Bucket=bucket, Key=odd, IfNoneMatch=got["ETag"])), "304")

for i in range(5):
    s3.put_object(Bucket=bucket, Key=f"list/{i}/x", Body=b"x")
    s3.put_object(Bucket=bucket, Key=f"list/f{i}", Body=b"x")
pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="list/", Delimiter="/", PaginationConfig={"PageSize": 3})
prefixes, keys = [], []
for page in pages:
    prefixes += [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    keys += [o["Key"] for o in page.get("Contents", [])]
check("paginated prefixes", prefixes, [f"list/{i}/" for i in range(5)])
check("paginated keys", keys, [f"list/f{i}" for i in range(5)])
v1 = s3.list_objects(Bucket=bucket, Prefix="dir/")
check("list v1 odd key (encoding-type=url)", [o["Key"] for o in v1["Contents"]], [odd])

deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"list/f{i}"} for i in range(5)]})
check("delete_objects", sorted(d["Key"] for d in deleted["Deleted"]), [f"list/f{i}" for i in range(5)])

s3.copy_object(Bucket=bucket, Key="copied", CopySource={"Bucket": bucket, "Key": odd})
check("copy", s3.get_object(Bucket=bucket, Key="copied")["Body"].read(), b"hello boto3")

part = os.urandom(5 * 1024 * 1024)
mpu = s3.create_multipart_upload(Bucket=bucket, Key="mpu")
e1 = s3.upload_part(Bucket=bucket, Key="mpu", UploadId=mpu["UploadId"], PartNumber=1, Body=part)["ETag"]
e2 = s3.upload_part(Bucket=bucket, Key="mpu", UploadId=mpu["UploadId"], PartNumber=2, Body=b"tail")["ETag"]
check("invalid part order", error_code(lambda: s3.complete_multipart_upload(
    Bucket=bucket, Key="mpu", UploadId=mpu["UploadId"],
    MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": e2}, {"PartNumber": 1, "ETag": e1}]})), "InvalidPartOrder")
check("no such upload", error_code(lambda: s3.upload_part(Bucket=bucket, Key="mpu", UploadId="0" * 32, PartNumber=1, Body=b"x")), "NoSuchUpload")
done = s3.complete_multipart_upload(Bucket=bucket, Key="mpu", UploadId=mpu["UploadId"],
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
digests = hashlib.md5(bytes.fromhex(e1.strip('"')) + bytes.fromhex(e2.strip('"'))).hexdigest()
check("multipart etag", done["ETag"], f'"{digests}-2"')
check("multipart body", hashlib.sha256(s3.get_object(Bucket=bucket, Key="mpu")["Body"].read()).hexdigest(), hashlib.sha256(part + b"tail").hexdigest())

big = os.urandom(9 * 1024 * 1024)
path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"nexus-boto3-{os.getpid()}.bin")
with open(path, "wb") as f:
    f.write(big)
s3.upload_file(path, bucket, "transfer/big.bin")
s3.download_file(bucket, "transfer/big.bin", path + ".out")
with open(path + ".out", "rb") as f:
    check("s3transfer round trip", hashlib.sha256(f.read()).hexdigest(), hashlib.sha256(big).hexdigest())
os.remove(path)
os.remove(path + ".out")

# A client made for another region (a function written for its own region): the store names its region in the error,
# as S3 does, and botocore's region redirector signs again for it; a HEAD first, whose error has no body, then a PUT.
elsewhere = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2", aws_access_key_id=os.environ["NEXUS_TEST_KEY"],
                         aws_secret_access_key=os.environ["NEXUS_TEST_SECRET"])
check("other region head", elsewhere.head_object(Bucket=bucket, Key=odd)["ContentLength"], 11)
elsewhere = boto3.client("s3", endpoint_url=endpoint, region_name="eu-west-2", aws_access_key_id=os.environ["NEXUS_TEST_KEY"],
                         aws_secret_access_key=os.environ["NEXUS_TEST_SECRET"])
elsewhere.put_object(Bucket=bucket, Key="elsewhere", Body=b"from eu-west-2")
check("other region put and get", elsewhere.get_object(Bucket=bucket, Key="elsewhere")["Body"].read(), b"from eu-west-2")

# botocore 1.29 presigns with Signature Version 2 unless told s3v4 (below: the SigV2 section); s3v4 works as well.
v4 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=os.environ["NEXUS_TEST_KEY"],
                  aws_secret_access_key=os.environ["NEXUS_TEST_SECRET"],
                  config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))
url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": odd}, ExpiresIn=300)
check("presigned v4 get", urllib.request.urlopen(url).read(), b"hello boto3")

# Tagging: on PUT, on its own, on multipart create and on copy; S3's limits with S3's error codes.
s3.put_object(Bucket=bucket, Key="tagged", Body=b"t", Tagging="team=data&stage=raw%20in")
check("tag count on get", s3.get_object(Bucket=bucket, Key="tagged")["TagCount"], 2)
check("tags from put", s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"],
      [{"Key": "team", "Value": "data"}, {"Key": "stage", "Value": "raw in"}])
before = s3.head_object(Bucket=bucket, Key="tagged")
s3.put_object_tagging(Bucket=bucket, Key="tagged", Tagging={"TagSet": [{"Key": "k", "Value": "v" * 256}]})
after = s3.head_object(Bucket=bucket, Key="tagged")
check("tagging keeps etag and date", (after["ETag"], after["LastModified"]), (before["ETag"], before["LastModified"]))
check("put_object_tagging", s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"], [{"Key": "k", "Value": "v" * 256}])
check("delete_object_tagging status", s3.delete_object_tagging(Bucket=bucket, Key="tagged")["ResponseMetadata"]["HTTPStatusCode"], 204)
check("tags deleted", s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"], [])
check("no tag count", "TagCount" in s3.get_object(Bucket=bucket, Key="tagged"), False)
eleven = {"TagSet": [{"Key": f"k{i}", "Value": "v"} for i in range(11)]}
check("11 tags", error_code(lambda: s3.put_object_tagging(Bucket=bucket, Key="tagged", Tagging=eleven)), "BadRequest")
check("11 tags on put", error_code(lambda: s3.put_object(Bucket=bucket, Key="tagged2", Body=b"x", Tagging="&".join(f"k{i}=v" for i in range(11)))), "BadRequest")
check("tag key 129", error_code(lambda: s3.put_object_tagging(Bucket=bucket, Key="tagged", Tagging={"TagSet": [{"Key": "k" * 129, "Value": ""}]})), "InvalidTag")
check("tag value 257", error_code(lambda: s3.put_object_tagging(Bucket=bucket, Key="tagged", Tagging={"TagSet": [{"Key": "k", "Value": "v" * 257}]})), "InvalidTag")
check("duplicate tag", error_code(lambda: s3.put_object(Bucket=bucket, Key="tagged2", Body=b"x", Tagging="a=1&a=2")), "InvalidTag")
check("aws: tag", error_code(lambda: s3.put_object(Bucket=bucket, Key="tagged2", Body=b"x", Tagging="aws:x=1")), "InvalidTag")
check("tagging missing key", error_code(lambda: s3.get_object_tagging(Bucket=bucket, Key="nope")), "NoSuchKey")
check("tagging missing key put", error_code(lambda: s3.put_object_tagging(Bucket=bucket, Key="nope", Tagging={"TagSet": []})), "NoSuchKey")
s3.put_object_tagging(Bucket=bucket, Key="tagged", Tagging={"TagSet": [{"Key": "src", "Value": "1"}]})
s3.copy_object(Bucket=bucket, Key="tag-copy", CopySource={"Bucket": bucket, "Key": "tagged"})
check("copy keeps tags", s3.get_object_tagging(Bucket=bucket, Key="tag-copy")["TagSet"], [{"Key": "src", "Value": "1"}])
s3.copy_object(Bucket=bucket, Key="tag-copy", CopySource={"Bucket": bucket, "Key": "tagged"}, TaggingDirective="REPLACE", Tagging="dst=2")
check("copy replaces tags", s3.get_object_tagging(Bucket=bucket, Key="tag-copy")["TagSet"], [{"Key": "dst", "Value": "2"}])
mpu = s3.create_multipart_upload(Bucket=bucket, Key="mpu-tagged", Tagging="via=mpu", StorageClass="STANDARD_IA")
e1 = s3.upload_part(Bucket=bucket, Key="mpu-tagged", UploadId=mpu["UploadId"], PartNumber=1, Body=b"only part")["ETag"]
s3.complete_multipart_upload(Bucket=bucket, Key="mpu-tagged", UploadId=mpu["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
check("multipart tags", s3.get_object_tagging(Bucket=bucket, Key="mpu-tagged")["TagSet"], [{"Key": "via", "Value": "mpu"}])
check("multipart storage class", s3.head_object(Bucket=bucket, Key="mpu-tagged")["StorageClass"], "STANDARD_IA")

# Stored headers, storage class, SSE-S3, ContentMD5, conditional GETs, response overrides, ExpectedBucketOwner.
import base64
import datetime
put = s3.put_object(Bucket=bucket, Key="headers", Body=b"<p>hi</p>", ContentType="text/html", CacheControl="max-age=60",
                    ContentEncoding="identity", ContentDisposition='attachment; filename="a.html"', ContentLanguage="en",
                    StorageClass="REDUCED_REDUNDANCY", ServerSideEncryption="AES256", ExpectedBucketOwner="123456789012",
                    ContentMD5=base64.b64encode(hashlib.md5(b"<p>hi</p>").digest()).decode())
check("put echoes SSE", put["ServerSideEncryption"], "AES256")
head = s3.head_object(Bucket=bucket, Key="headers")
check("stored headers", {k: head.get(k) for k in ("CacheControl", "ContentEncoding", "ContentDisposition", "ContentLanguage", "StorageClass", "ServerSideEncryption")},
      {"CacheControl": "max-age=60", "ContentEncoding": "identity", "ContentDisposition": 'attachment; filename="a.html"',
       "ContentLanguage": "en", "StorageClass": "REDUCED_REDUNDANCY", "ServerSideEncryption": "AES256"})
listed = s3.list_objects_v2(Bucket=bucket, Prefix="headers")["Contents"][0]
check("listed storage class", listed["StorageClass"], "REDUCED_REDUNDANCY")
check("bad digest", error_code(lambda: s3.put_object(Bucket=bucket, Key="headers2", Body=b"x", ContentMD5=base64.b64encode(hashlib.md5(b"y").digest()).decode())), "BadDigest")
check("bad storage class", error_code(lambda: s3.put_object(Bucket=bucket, Key="headers2", Body=b"x", StorageClass="CHEAP")), "InvalidStorageClass")

# SSE-KMS as S3 reports it: the key named (else the account's aws/s3 key), the bucket-key flag, on writes, GET and HEAD.
kms = s3.put_object(Bucket=bucket, Key="kms", Body=b"sealed", ServerSideEncryption="aws:kms")
default_key = "arn:aws:kms:us-east-1:000000000000:alias/aws/s3"
check("kms put", (kms["ServerSideEncryption"], kms["SSEKMSKeyId"]), ("aws:kms", default_key))
named = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
context = base64.b64encode(b'{"project":"nexus"}').decode()
kms = s3.put_object(Bucket=bucket, Key="kms-named", Body=b"sealed", ServerSideEncryption="aws:kms", SSEKMSKeyId=named,
                    SSEKMSEncryptionContext=context, BucketKeyEnabled=True)
check("kms put named", (kms["SSEKMSKeyId"], kms["BucketKeyEnabled"]), (named, True))
got = s3.get_object(Bucket=bucket, Key="kms-named")
check("kms get", (got["Body"].read(), got["ServerSideEncryption"], got["SSEKMSKeyId"], got["BucketKeyEnabled"]), (b"sealed", "aws:kms", named, True))
head = s3.head_object(Bucket=bucket, Key="kms")
check("kms head", (head["ServerSideEncryption"], head["SSEKMSKeyId"], head.get("BucketKeyEnabled")), ("aws:kms", default_key, None))
copied = s3.copy_object(Bucket=bucket, Key="kms-copy", CopySource={"Bucket": bucket, "Key": "kms-named"})
check("a copy states its own encryption", ("ServerSideEncryption" in copied, "ServerSideEncryption" in s3.head_object(Bucket=bucket, Key="kms-copy")), (False, False))
copied = s3.copy_object(Bucket=bucket, Key="kms-copy", CopySource={"Bucket": bucket, "Key": "headers"}, ServerSideEncryption="aws:kms:dsse", SSEKMSKeyId="alias/app")
check("kms copy", (copied["ServerSideEncryption"], copied["SSEKMSKeyId"]), ("aws:kms:dsse", "alias/app"))
mpu = s3.create_multipart_upload(Bucket=bucket, Key="kms-mpu", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/app")
check("kms create upload", (mpu["ServerSideEncryption"], mpu["SSEKMSKeyId"]), ("aws:kms", "alias/app"))
part = s3.upload_part(Bucket=bucket, Key="kms-mpu", UploadId=mpu["UploadId"], PartNumber=1, Body=b"part")
check("kms upload part", (part["ServerSideEncryption"], part["SSEKMSKeyId"]), ("aws:kms", "alias/app"))
done = s3.complete_multipart_upload(Bucket=bucket, Key="kms-mpu", UploadId=mpu["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
check("kms complete", (done["ServerSideEncryption"], done["SSEKMSKeyId"]), ("aws:kms", "alias/app"))
check("kms key without aws:kms", error_code(lambda: s3.put_object(Bucket=bucket, Key="kms-bad", Body=b"x", SSEKMSKeyId=named)), "InvalidArgument")
check("kms key without aws:kms, AES256", error_code(lambda: s3.put_object(Bucket=bucket, Key="kms-bad", Body=b"x", ServerSideEncryption="AES256", SSEKMSKeyId=named)), "InvalidArgument")
check("kms context not JSON", error_code(lambda: s3.put_object(Bucket=bucket, Key="kms-bad", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSEncryptionContext=base64.b64encode(b"not json").decode())), "InvalidArgument")
check("kms context not a string map", error_code(lambda: s3.put_object(Bucket=bucket, Key="kms-bad", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSEncryptionContext=base64.b64encode(b'{"n":1}').decode())), "InvalidArgument")
check("unknown encryption", error_code(lambda: s3.put_object(Bucket=bucket, Key="kms-bad", Body=b"x", ServerSideEncryption="rot13")), "InvalidArgument")
check("nothing stored by a refused write", error_code(lambda: s3.head_object(Bucket=bucket, Key="kms-bad")), "404")

# SSE-C as S3 takes it: every read (and a copy's source, and each part of an upload) states the same key.
key, other = b"k" * 32, b"o" * 32
put = s3.put_object(Bucket=bucket, Key="ssec", Body=b"customer", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
key_md5 = base64.b64encode(hashlib.md5(key).digest()).decode()
check("ssec put", (put["SSECustomerAlgorithm"], put["SSECustomerKeyMD5"]), ("AES256", key_md5))
got = s3.get_object(Bucket=bucket, Key="ssec", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
check("ssec get", (got["Body"].read(), got["SSECustomerAlgorithm"], got["SSECustomerKeyMD5"]), (b"customer", "AES256", key_md5))
check("ssec head", s3.head_object(Bucket=bucket, Key="ssec", SSECustomerAlgorithm="AES256", SSECustomerKey=key)["SSECustomerKeyMD5"], key_md5)
check("ssec get without the key", error_code(lambda: s3.get_object(Bucket=bucket, Key="ssec")), "InvalidRequest")
check("ssec head without the key", error_code(lambda: s3.head_object(Bucket=bucket, Key="ssec")), "400")
check("ssec get with another key", error_code(lambda: s3.get_object(Bucket=bucket, Key="ssec", SSECustomerAlgorithm="AES256", SSECustomerKey=other)), "AccessDenied")
check("ssec key on a plain object", error_code(lambda: s3.get_object(Bucket=bucket, Key="kms", SSECustomerAlgorithm="AES256", SSECustomerKey=key)), "InvalidRequest")
check("ssec key of the wrong length", error_code(lambda: s3.put_object(Bucket=bucket, Key="ssec-bad", Body=b"x", SSECustomerAlgorithm="AES256", SSECustomerKey=b"short")), "InvalidArgument")
check("ssec with aws:kms", error_code(lambda: s3.put_object(Bucket=bucket, Key="ssec-bad", Body=b"x", ServerSideEncryption="aws:kms", SSECustomerAlgorithm="AES256", SSECustomerKey=key)), "InvalidArgument")
check("ssec copy without the source key", error_code(lambda: s3.copy_object(Bucket=bucket, Key="ssec-copy", CopySource={"Bucket": bucket, "Key": "ssec"})), "InvalidRequest")
s3.copy_object(Bucket=bucket, Key="ssec-copy", CopySource={"Bucket": bucket, "Key": "ssec"}, CopySourceSSECustomerAlgorithm="AES256", CopySourceSSECustomerKey=key,
               SSECustomerAlgorithm="AES256", SSECustomerKey=other)
check("ssec copy re-keyed", s3.get_object(Bucket=bucket, Key="ssec-copy", SSECustomerAlgorithm="AES256", SSECustomerKey=other)["Body"].read(), b"customer")
check("ssec copy's old key refused", error_code(lambda: s3.head_object(Bucket=bucket, Key="ssec-copy", SSECustomerAlgorithm="AES256", SSECustomerKey=key)), "403")
mpu = s3.create_multipart_upload(Bucket=bucket, Key="ssec-mpu", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
check("ssec part without the key", error_code(lambda: s3.upload_part(Bucket=bucket, Key="ssec-mpu", UploadId=mpu["UploadId"], PartNumber=1, Body=b"p")), "InvalidRequest")
part = s3.upload_part(Bucket=bucket, Key="ssec-mpu", UploadId=mpu["UploadId"], PartNumber=1, Body=b"part", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
s3.complete_multipart_upload(Bucket=bucket, Key="ssec-mpu", UploadId=mpu["UploadId"], MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
check("ssec multipart", s3.get_object(Bucket=bucket, Key="ssec-mpu", SSECustomerAlgorithm="AES256", SSECustomerKey=key)["Body"].read(), b"part")
check("ssec multipart without the key", error_code(lambda: s3.get_object(Bucket=bucket, Key="ssec-mpu")), "InvalidRequest")
modified = head["LastModified"]
check("if-modified-since", error_code(lambda: s3.get_object(Bucket=bucket, Key="headers", IfModifiedSince=modified)), "304")
check("if-modified-since older", s3.get_object(Bucket=bucket, Key="headers", IfModifiedSince=modified - datetime.timedelta(days=1))["Body"].read(), b"<p>hi</p>")
check("if-unmodified-since", error_code(lambda: s3.get_object(Bucket=bucket, Key="headers", IfUnmodifiedSince=modified - datetime.timedelta(days=1))), "PreconditionFailed")
overridden = s3.get_object(Bucket=bucket, Key="headers", ResponseContentType="application/json", ResponseCacheControl="no-cache",
                           ResponseContentDisposition="inline", ExpectedBucketOwner="123456789012")
check("response overrides", (overridden["ContentType"], overridden["CacheControl"], overridden["ContentDisposition"]), ("application/json", "no-cache", "inline"))
check("head_bucket owner", s3.head_bucket(Bucket=bucket, ExpectedBucketOwner="123456789012")["ResponseMetadata"]["HTTPStatusCode"], 200)
check("head_bucket missing", error_code(lambda: s3.head_bucket(Bucket=bucket + "-missing")), "404")
check("list_buckets", bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]], True)
check("create existing bucket", error_code(lambda: s3.create_bucket(Bucket=bucket)), "BucketAlreadyOwnedByYou")

# Checksum mode, as S3 answers it: the checksum the writer sent (boto3 validates a CRC32 itself), else the CRC-64/NVME
# the store computed (this boto3 predates CRC-64/NVME, so it is read from the raw headers and computed here).
def crc64nvme(data):
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x9A6C9329AC4BC9B5 if crc & 1 else crc >> 1
    return base64.b64encode((crc ^ 0xFFFFFFFFFFFFFFFF).to_bytes(8, "big")).decode()


payload = os.urandom(3000)
s3.put_object(Bucket=bucket, Key="sum/crc32", Body=payload, ChecksumAlgorithm="CRC32")
got = s3.get_object(Bucket=bucket, Key="sum/crc32", ChecksumMode="ENABLED")
check("checksum mode crc32 body", got["Body"].read(), payload)
check("checksum mode crc32", got["ChecksumCRC32"], base64.b64encode(zlib.crc32(payload).to_bytes(4, "big")).decode())
s3.put_object(Bucket=bucket, Key="sum/default", Body=payload)
headers = s3.head_object(Bucket=bucket, Key="sum/default", ChecksumMode="ENABLED")["ResponseMetadata"]["HTTPHeaders"]
check("checksum mode default", (headers.get("x-amz-checksum-crc64nvme"), headers.get("x-amz-checksum-type")), (crc64nvme(payload), "FULL_OBJECT"))
plain = s3.head_object(Bucket=bucket, Key="sum/default")["ResponseMetadata"]["HTTPHeaders"]
check("no checksum unless asked", "x-amz-checksum-crc64nvme" in plain, False)
s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "sum/crc32"}, {"Key": "sum/default"}]})

# Bucket configurations the store cannot hold: every bucket is one where they were never set, answered as S3 answers it.
def error_of(call):
    try:
        call()
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("expected an error")


for name, code in (("get_bucket_policy", "NoSuchBucketPolicy"), ("get_bucket_policy_status", "NoSuchBucketPolicy"),
                   ("get_bucket_cors", "NoSuchCORSConfiguration"),
                   ("get_bucket_lifecycle_configuration", "NoSuchLifecycleConfiguration"),
                   ("get_bucket_tagging", "NoSuchTagSet"), ("get_bucket_website", "NoSuchWebsiteConfiguration"),
                   ("get_bucket_encryption", "ServerSideEncryptionConfigurationNotFoundError"),
                   ("get_bucket_replication", "ReplicationConfigurationNotFoundError"),
                   ("get_object_lock_configuration", "ObjectLockConfigurationNotFoundError")):
    check(name + " never set", error_of(lambda: getattr(s3, name)(Bucket=bucket)), (code, 404))
check("policy of a missing bucket", error_of(lambda: s3.get_bucket_policy(Bucket=bucket + "-none")), ("NoSuchBucket", 404))


def document(response):
    response.pop("ResponseMetadata")
    return response


check("notification default", document(s3.get_bucket_notification_configuration(Bucket=bucket)), {})
check("logging default", document(s3.get_bucket_logging(Bucket=bucket)), {})
check("accelerate default", document(s3.get_bucket_accelerate_configuration(Bucket=bucket)), {})
check("request payment default", document(s3.get_bucket_request_payment(Bucket=bucket)), {"Payer": "BucketOwner"})
check("ownership default", document(s3.get_bucket_ownership_controls(Bucket=bucket)),
      {"OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}})
check("public access block default", document(s3.get_public_access_block(Bucket=bucket)),
      {"PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                                          "RestrictPublicBuckets": True}})
for family in ("analytics", "metrics", "inventory", "intelligent_tiering"):
    check(family + " list", document(getattr(s3, f"list_bucket_{family}_configurations")(Bucket=bucket)), {"IsTruncated": False})
    check(family + " by id", error_of(lambda: getattr(s3, f"get_bucket_{family}_configuration")(Bucket=bucket, Id="x")),
          ("NoSuchConfiguration", 404))

# Object lock needs a bucket created with it, which this store cannot make: refused as S3 refuses it, nothing written.
check("object lock on a put", error_of(lambda: s3.put_object(
    Bucket=bucket, Key="locked", Body=b"x", ObjectLockMode="GOVERNANCE",
    ObjectLockRetainUntilDate=datetime.datetime(2099, 1, 1, tzinfo=datetime.timezone.utc))), ("InvalidRequest", 400))
check("locked put not stored", error_code(lambda: s3.head_object(Bucket=bucket, Key="locked")), "404")
check("legal hold on a put", error_of(lambda: s3.put_object(Bucket=bucket, Key="locked", Body=b"x",
                                                             ObjectLockLegalHoldStatus="ON")), ("InvalidRequest", 400))
check("retention read", error_of(lambda: s3.get_object_retention(Bucket=bucket, Key=odd)), ("InvalidRequest", 400))
check("legal hold write", error_of(lambda: s3.put_object_legal_hold(Bucket=bucket, Key=odd, LegalHold={"Status": "ON"})),
      ("InvalidRequest", 400))
check("restore of a readable object", error_of(lambda: s3.restore_object(Bucket=bucket, Key=odd, RestoreRequest={"Days": 1})),
      ("InvalidObjectState", 403))
check("retention of a missing key", error_of(lambda: s3.get_object_retention(Bucket=bucket, Key="nope")), ("NoSuchKey", 404))

# Every object's one version is "null": another version id is refused, never taken for the current version.
s3.put_object(Bucket=bucket, Key="versioned", Body=b"only version")
for name, call in (("get", lambda: s3.get_object(Bucket=bucket, Key="versioned", VersionId="abc")),
                   ("tagging", lambda: s3.get_object_tagging(Bucket=bucket, Key="versioned", VersionId="abc")),
                   ("delete", lambda: s3.delete_object(Bucket=bucket, Key="versioned", VersionId="abc")),
                   ("copy", lambda: s3.copy_object(Bucket=bucket, Key="versioned-copy",
                                                   CopySource={"Bucket": bucket, "Key": "versioned", "VersionId": "abc"}))):
    check("version abc: " + name, error_of(call), ("InvalidArgument", 400))
check("version abc: head", error_code(lambda: s3.head_object(Bucket=bucket, Key="versioned", VersionId="abc")), "400")
check("version empty", error_of(lambda: s3.delete_object(Bucket=bucket, Key="versioned", VersionId="")), ("InvalidArgument", 400))
deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "versioned", "VersionId": "abc"}]})
check("delete_objects version abc", [(e["Key"], e["VersionId"], e["Code"]) for e in deleted["Errors"]],
      [("versioned", "abc", "NoSuchVersion")])
check("version abc kept the object", s3.get_object(Bucket=bucket, Key="versioned", VersionId="null")["Body"].read(), b"only version")
deleted = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "versioned", "VersionId": "null"}]})
check("delete_objects version null", deleted["Deleted"], [{"Key": "versioned", "VersionId": "null"}])
check("version null deleted it", error_code(lambda: s3.head_object(Bucket=bucket, Key="versioned")), "404")

# A copy onto itself must change something: a storage class does (moving an object to another class in place).
s3.put_object(Bucket=bucket, Key="in-place", Body=b"same bytes", Metadata={"kept": "yes"})
check("copy to itself unchanged", error_of(lambda: s3.copy_object(Bucket=bucket, Key="in-place",
                                                                    CopySource={"Bucket": bucket, "Key": "in-place"})),
      ("InvalidRequest", 400))
s3.copy_object(Bucket=bucket, Key="in-place", CopySource={"Bucket": bucket, "Key": "in-place"}, StorageClass="STANDARD_IA")
moved = s3.head_object(Bucket=bucket, Key="in-place")
check("copy to itself with a storage class", (moved.get("StorageClass"), moved["Metadata"]), ("STANDARD_IA", {"kept": "yes"}))
s3.copy_object(Bucket=bucket, Key="in-place", CopySource={"Bucket": bucket, "Key": "in-place"}, ServerSideEncryption="AES256")
check("copy to itself with an encryption", s3.head_object(Bucket=bucket, Key="in-place").get("ServerSideEncryption"), "AES256")
s3.delete_object(Bucket=bucket, Key="in-place")

# A browser-form upload takes a PUT's storage options from its fields, and refuses object lock as a PUT does.
def post_form(post, data):
    boundary = "nexusboundary"
    parts = [f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n".encode()
             for name, value in post["fields"].items()]
    parts.append(f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n".encode()
                 + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request(post["url"], data=b"".join(parts), method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    try:
        with urllib.request.urlopen(request) as r:
            return r.status, None
    except urllib.error.HTTPError as e:
        return e.code, e.read().split(b"<Code>")[1].split(b"</Code>")[0].decode()


form_fields = {"x-amz-storage-class": "STANDARD_IA", "x-amz-server-side-encryption": "AES256"}
post = v4.generate_presigned_post(bucket, "form/classed", Fields=form_fields,
                                  Conditions=[{name: value} for name, value in form_fields.items()])
check("form upload with storage options", post_form(post, b"form bytes"), (204, None))
classed = s3.head_object(Bucket=bucket, Key="form/classed")
check("form storage options stored", (classed.get("StorageClass"), classed.get("ServerSideEncryption")), ("STANDARD_IA", "AES256"))
lock_fields = {"x-amz-object-lock-mode": "GOVERNANCE", "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"}
post = v4.generate_presigned_post(bucket, "form/locked", Fields=lock_fields,
                                  Conditions=[{name: value} for name, value in lock_fields.items()])
check("form upload with object lock", post_form(post, b"form bytes"), (400, "InvalidRequest"))
check("locked form stored nothing", error_code(lambda: s3.head_object(Bucket=bucket, Key="form/locked")), "404")
s3.delete_object(Bucket=bucket, Key="form/classed")

# Signature Version 2: what botocore 1.29 presigns URLs and forms with by default (a baseline function's
# generate_presigned_url), and what a client told signature_version="s3" signs every request with.
def fetch(url, method="GET", data=None, headers=None):
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        body = e.read()
        return e.code, body.split(b"<Code>")[1].split(b"</Code>")[0].decode() if b"<Code>" in body else body, e.headers


v2_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": odd}, ExpiresIn=300)
check("presigned url is SigV2", "AWSAccessKeyId=" in v2_url and "X-Amz-Signature" not in v2_url, True)
check("presigned v2 get", fetch(v2_url)[:2], (200, b"hello boto3"))
status, _, headers = fetch(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": odd, "ResponseContentType": "text/x-nexus"}))
check("presigned v2 get with an override", (status, headers["Content-Type"]), (200, "text/x-nexus"))
check("presigned v2 head", fetch(s3.generate_presigned_url("head_object", Params={"Bucket": bucket, "Key": odd}), method="HEAD")[0], 200)
check("presigned v2 key changed", fetch(v2_url.replace("c%26d", "c%26e"))[:2], (403, "SignatureDoesNotMatch"))
check("presigned v2 operation added", fetch(v2_url + "&attributes")[:2], (400, "InvalidRequest"))
check("presigned v2 expired", fetch(s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": odd}, ExpiresIn=-5))[:2],
      (403, "AccessDenied"))
put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "v2/up load.txt", "ContentType": "text/plain",
                                                          "Metadata": {"owner": "fn"}}, ExpiresIn=300)
check("presigned v2 put", fetch(put_url, "PUT", b"uploaded by v2", {"Content-Type": "text/plain"})[0], 200)
uploaded = s3.get_object(Bucket=bucket, Key="v2/up load.txt")
check("presigned v2 put stored", (uploaded["Body"].read(), uploaded["ContentType"], uploaded["Metadata"]),
      (b"uploaded by v2", "text/plain", {"owner": "fn"}))
check("presigned v2 put with another type", fetch(put_url, "PUT", b"x", {"Content-Type": "text/html"})[:2], (403, "SignatureDoesNotMatch"))
check("presigned v2 put turned into a copy", fetch(put_url, "PUT", b"", {"Content-Type": "text/plain", "x-amz-copy-source": f"{bucket}/tagged"})[:2],
      (403, "SignatureDoesNotMatch"))
check("presigned v2 put kept", s3.get_object(Bucket=bucket, Key="v2/up load.txt")["Body"].read(), b"uploaded by v2")
post = s3.generate_presigned_post(bucket, "v2/form-${filename}", Conditions=[["content-length-range", 1, 100]])
check("presigned post is SigV2", sorted(post["fields"]), ["AWSAccessKeyId", "key", "policy", "signature"])
check("presigned v2 form upload", post_form(post, b"form bytes"), (204, None))
check("presigned v2 form stored", s3.get_object(Bucket=bucket, Key="v2/form-f")["Body"].read(), b"form bytes")
forged = dict(post, fields=dict(post["fields"], signature=post["fields"]["signature"][::-1]))
check("presigned v2 form forged", post_form(forged, b"form bytes"), (403, "SignatureDoesNotMatch"))
check("presigned v2 form too large", post_form(post, b"x" * 101), (400, "EntityTooLarge"))
v2 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=os.environ["NEXUS_TEST_KEY"],
                  aws_secret_access_key=os.environ["NEXUS_TEST_SECRET"],
                  config=Config(signature_version="s3", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
v2.put_object(Bucket=bucket, Key="v2/header signed", Body=b"signed with v2", Metadata={"a": "b"}, Tagging="t=1")
check("v2 header-signed get", v2.get_object(Bucket=bucket, Key="v2/header signed")["Body"].read(), b"signed with v2")
check("v2 header-signed tagging", v2.get_object_tagging(Bucket=bucket, Key="v2/header signed")["TagSet"], [{"Key": "t", "Value": "1"}])
check("v2 header-signed list", [o["Key"] for o in v2.list_objects_v2(Bucket=bucket, Prefix="v2/")["Contents"]],
      ["v2/form-f", "v2/header signed", "v2/up load.txt"])
v2.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ("v2/form-f", "v2/header signed", "v2/up load.txt")]})
check("v2 header-signed delete_objects", v2.list_objects_v2(Bucket=bucket, Prefix="v2/")["KeyCount"], 0)
check("v2 wrong secret", error_code(lambda: boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=os.environ["NEXUS_TEST_KEY"],
                                                          aws_secret_access_key="wrong", config=Config(signature_version="s3", retries={"max_attempts": 1}))
                                    .head_bucket(Bucket=bucket)), "403")

# A website redirect is kept and answered, checked as S3 checks it, and not carried by a copy (S3 copies none).
s3.put_object(Bucket=bucket, Key="redirect", Body=b"x", WebsiteRedirectLocation="/elsewhere.html")
check("website redirect kept", s3.head_object(Bucket=bucket, Key="redirect").get("WebsiteRedirectLocation"), "/elsewhere.html")
check("website redirect checked", error_of(lambda: s3.put_object(Bucket=bucket, Key="redirect-bad", Body=b"x",
                                                                  WebsiteRedirectLocation="elsewhere.html")),
      ("InvalidRedirectLocation", 400))
s3.copy_object(Bucket=bucket, Key="redirect-copy", CopySource={"Bucket": bucket, "Key": "redirect"})
check("website redirect not copied", s3.head_object(Bucket=bucket, Key="redirect-copy").get("WebsiteRedirectLocation"), None)
s3.copy_object(Bucket=bucket, Key="redirect", CopySource={"Bucket": bucket, "Key": "redirect"},
               WebsiteRedirectLocation="https://example.org/")
check("website redirect changed in place", s3.head_object(Bucket=bucket, Key="redirect").get("WebsiteRedirectLocation"),
      "https://example.org/")
s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "redirect"}, {"Key": "redirect-copy"}]})

check("wrong secret", error_code(lambda: client("wrong-secret").list_buckets()), "SignatureDoesNotMatch")
check("bucket not empty", error_code(lambda: s3.delete_bucket(Bucket=bucket)), "BucketNotEmpty")
check("invalid bucket name", error_code(lambda: s3.create_bucket(Bucket="no_underscores")), "InvalidBucketName")
print("boto3: all checks passed")
