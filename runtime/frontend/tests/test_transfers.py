# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's managed transfers (upload_file, download_file and their fileobj forms)."""

import io
import os
import tempfile
import unittest

from frontend_case import FrontendTestCase, b64_sha256
import boto3
from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import ClientError


class TransferTests(FrontendTestCase):
    def setUp(self):
        super().setUp()
        self.tmp = tempfile.TemporaryDirectory()
        self.payload = os.urandom(3 * 1024 * 1024 + 17)

    def tearDown(self):
        self.tmp.cleanup()
        super().tearDown()

    def path(self, name):
        return os.path.join(self.tmp.name, name)

    def test_upload_file_streams_in_chunks_and_reports_progress(self):
        with open(self.path('in'), 'wb') as f:
            f.write(self.payload)
        seen = []
        self.s3.upload_file(self.path('in'), 'bucket', 'big', ExtraArgs={'ContentType': 'x/y'}, Callback=seen.append)
        stored = self.transport.buckets['bucket']['big']
        self.assertEqual(stored['data'], self.payload)
        self.assertEqual(stored['type'], 'x/y')
        self.assertGreater(len(self.transport.body_reads[-1]), 1)
        self.assertEqual(sum(seen), len(self.payload))

    def test_multipart_upload_with_checksum_algorithm_sends_each_parts_checksum(self):
        # Above the threshold: the ChecksumAlgorithm goes to the create and to every part, as s3transfer passes it; each
        # part's checksum is of that part alone, and the completion lists them (the store builds the composite).
        payload, chunk = os.urandom((11 << 20) + 17), 5 << 20  # s3transfer's smallest part size
        with open(self.path('in'), 'wb') as f:
            f.write(payload)
        seen = []
        config = boto3.s3.transfer.TransferConfig(multipart_threshold=chunk, multipart_chunksize=chunk)
        self.s3.upload_file(self.path('in'), 'bucket', 'mpu', ExtraArgs={'ChecksumAlgorithm': 'SHA256'},
                            Callback=seen.append, Config=config)
        self.assertEqual(self.transport.buckets['bucket']['mpu']['data'], payload)
        self.assertEqual(sum(seen), len(payload))
        ops = [op for op, _ in self.transport.calls]
        self.assertEqual(ops, ['CreateMultipartUpload'] + ['UploadPart'] * 3 + ['CompleteMultipartUpload'])
        self.assertEqual(self.transport.calls[0][1]['ChecksumAlgorithm'], 'SHA256')
        expected = [b64_sha256(payload[i:i + chunk]) for i in range(0, len(payload), chunk)]
        self.assertEqual([params['ChecksumSHA256'] for op, params in self.transport.calls if op == 'UploadPart'],
                         expected)
        self.assertTrue(all('ChecksumAlgorithm' not in params for op, params in self.transport.calls[1:]))
        parts = self.transport.calls[-1][1]['MultipartUpload']['Parts']
        self.assertEqual([p['ChecksumSHA256'] for p in parts], expected)

    def test_upload_part_checksum_given_or_computed(self):
        upload = self.s3.create_multipart_upload(Bucket='bucket', Key='k', ChecksumAlgorithm='crc32')
        self.assertEqual(upload['ChecksumAlgorithm'], 'CRC32')
        computed = self.s3.upload_part(Bucket='bucket', Key='k', UploadId=upload['UploadId'], PartNumber=1,
                                       Body=io.BytesIO(b'123456789'), ChecksumAlgorithm='CRC32')
        self.assertEqual(computed['ChecksumCRC32'], 'y/Q5Jg==')  # CRC-32 check value 0xCBF43926
        given = self.s3.upload_part(Bucket='bucket', Key='k', UploadId=upload['UploadId'], PartNumber=2,
                                    Body=b'x', ChecksumCRC32='AAAAAA==')
        # A given value travels as it is: the store judges it (BadDigest).
        self.assertEqual(given['ChecksumCRC32'], 'AAAAAA==')

    def test_download_file_chunks_renames_and_reports_progress(self):
        self.transport.put('bucket', 'big', self.payload)
        seen = []
        self.s3.download_file('bucket', 'big', self.path('out'), Callback=seen.append)
        with open(self.path('out'), 'rb') as f:
            self.assertEqual(f.read(), self.payload)
        self.assertEqual(sum(seen), len(self.payload))
        self.assertGreater(self.transport.bodies[-1].reads, 2)
        self.assertEqual(os.listdir(self.tmp.name), ['out'])

    def test_download_missing_key_fails_like_s3transfer_head(self):
        with self.assertRaises(ClientError) as caught:
            self.s3.download_file('bucket', 'missing', self.path('out'))
        self.assertIs(type(caught.exception), ClientError)
        self.assertEqual(str(caught.exception),
                         'An error occurred (404) when calling the HeadObject operation: Not Found')
        self.assertEqual(os.listdir(self.tmp.name), [])

    def test_upload_client_error_becomes_s3_upload_failed(self):
        with open(self.path('in'), 'wb') as f:
            f.write(b'abc')
        with self.assertRaises(S3UploadFailedError) as caught:
            self.s3.upload_file(self.path('in'), 'nobucket', 'k')
        self.assertEqual(str(caught.exception), f"Failed to upload {self.path('in')} to nobucket/k: An error "
                         "occurred (NoSuchBucket) when calling the PutObject operation: The specified bucket "
                         "does not exist")

    def test_fileobj_round_trip_and_argument_checks(self):
        self.s3.upload_fileobj(io.BytesIO(self.payload), 'bucket', 'obj')
        out = io.BytesIO()
        self.s3.download_fileobj('bucket', 'obj', out)
        self.assertEqual(out.getvalue(), self.payload)
        with self.assertRaises(ValueError) as caught:
            self.s3.upload_fileobj(b'bytes', 'bucket', 'obj')
        self.assertEqual(str(caught.exception), 'Fileobj must implement read')
        with self.assertRaises(ValueError) as caught:
            self.s3.upload_file(self.path('in'), 'bucket', 'k', ExtraArgs={'Bogus': 1})
        self.assertTrue(str(caught.exception).startswith("Invalid extra_args key 'Bogus', must be one of: ACL, "))
        with self.assertRaises(ValueError):
            self.s3.download_file('bucket', 'obj', 42)

    def test_managed_copy_heads_source_then_copies(self):
        self.transport.put('bucket', 'src', b'12345')
        seen = []
        self.s3.copy({'Bucket': 'bucket', 'Key': 'src'}, 'other', 'dst', Callback=seen.append)
        self.assertEqual([op for op, _ in self.transport.calls], ['HeadObject', 'CopyObject'])
        self.assertEqual(self.transport.buckets['other']['dst']['data'], b'12345')
        self.assertEqual(seen, [5])


if __name__ == '__main__':
    unittest.main()
