# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: Transfers."""

import hashlib
import io
import os

import botocore
import botocore.exceptions
from boto3.s3.transfer import TransferConfig

from difftest_common import BUCKET, DENIED, MISSING, WORKDIR, P, resource, norm, case, body, work_file, file_digest


@case
def upload_file_small(s3):
    seen = []
    result = s3.upload_file(work_file('up-small', body(70000, 5)), BUCKET, P + 'up-small',
                            ExtraArgs={'ContentType': 'application/x-up', 'Metadata': {'via': 'upload_file'}},
                            Callback=seen.append)
    return {'result': result, 'callback_total': sum(seen), 'head': norm(s3.head_object(Bucket=BUCKET,
                                                                                        Key=P + 'up-small'))}


@case
def upload_file_extra_args_tags_and_headers(s3):
    s3.upload_file(work_file('up-extra', body(3000, 9)), BUCKET, P + 'up-extra',
                   ExtraArgs={'Tagging': 'source=upload_file', 'CacheControl': 'max-age=1',
                              'StorageClass': 'INTELLIGENT_TIERING', 'ServerSideEncryption': 'AES256'})
    return {'head': s3.head_object(Bucket=BUCKET, Key=P + 'up-extra'),
            'tags': s3.get_object_tagging(Bucket=BUCKET, Key=P + 'up-extra')}


@case
def download_file_small(s3):
    seen = []
    path = work_file('down-small')
    result = s3.download_file(BUCKET, P + 'up-small', path, Callback=seen.append)
    return {'result': result, 'callback_total': sum(seen), 'file': file_digest(path),
            'leftovers': sorted(n for n in os.listdir(WORKDIR) if n.startswith('down-small.'))}


@case
def download_file_missing(s3):
    return s3.download_file(BUCKET, P + 'nope', work_file('down-missing'))


@case
def download_file_missing_leaves_nothing(s3):
    try:
        s3.download_file(BUCKET, P + 'nope', work_file('down-missing2'))
    except botocore.exceptions.ClientError:
        pass
    return sorted(n for n in os.listdir(WORKDIR) if n.startswith('down-missing2'))


@case
def download_file_denied(s3):
    return s3.download_file(DENIED, 'secret', work_file('down-denied'))


@case
def download_file_into_missing_dir(s3):
    return s3.download_file(BUCKET, P + 'up-small', os.path.join(WORKDIR, 'no-such-dir', 'f'))


@case
def upload_file_missing_bucket(s3):
    return s3.upload_file(work_file('up-x', b'abc'), MISSING, 'k')


@case
def upload_file_denied(s3):
    return s3.upload_file(work_file('up-x', b'abc'), DENIED, 'k')


@case
def upload_file_missing_local(s3):
    return s3.upload_file(os.path.join(WORKDIR, 'no-such-file'), BUCKET, P + 'never')


@case
def upload_file_bad_extra_args(s3):
    return s3.upload_file(work_file('up-x', b'abc'), BUCKET, P + 'never', ExtraArgs={'Nope': 1})


@case
def download_file_bad_extra_args(s3):
    return s3.download_file(BUCKET, P + 'up-small', work_file('down-x'), ExtraArgs={'Range': 'bytes=0-1'})


@case
def upload_file_non_str_filename(s3):
    return s3.upload_file(b'/tmp/x', BUCKET, P + 'never')


@case
def upload_fileobj_and_download_fileobj(s3):
    seen_up, seen_down = [], []
    s3.upload_fileobj(io.BytesIO(body(100000, 9)), BUCKET, P + 'fileobj2', ExtraArgs={'ContentType': 'a/b'},
                      Callback=seen_up.append)
    out = io.BytesIO()
    s3.download_fileobj(BUCKET, P + 'fileobj2', out, Callback=seen_down.append)
    return {'up': sum(seen_up), 'down': sum(seen_down), 'data': norm(out.getvalue()),
            'head': norm(s3.head_object(Bucket=BUCKET, Key=P + 'fileobj2'))}


@case
def upload_fileobj_not_readable(s3):
    return s3.upload_fileobj(b'not a file', BUCKET, P + 'never')


@case
def download_fileobj_missing(s3):
    return s3.download_fileobj(BUCKET, P + 'nope', io.BytesIO())


@case
def managed_copy(s3):
    seen = []
    result = s3.copy({'Bucket': BUCKET, 'Key': P + 'up-small'}, BUCKET, P + 'managed-copy', Callback=seen.append)
    return {'result': result, 'callback_total': sum(seen),
            'head': norm(s3.head_object(Bucket=BUCKET, Key=P + 'managed-copy'))}


@case
def managed_copy_missing_source(s3):
    return s3.copy({'Bucket': BUCKET, 'Key': P + 'nope'}, BUCKET, P + 'managed-copy2')


@case
def transfer_config_small_threshold(s3):
    # A TransferConfig is accepted; the stored object is the same.
    path = work_file('up-cfg', body(300000, 11))
    s3.upload_file(path, BUCKET, P + 'up-cfg', Config=TransferConfig(multipart_threshold=5 * 1024 * 1024,
                                                                     max_concurrency=2))
    out = work_file('down-cfg')
    s3.download_file(BUCKET, P + 'up-cfg', out, Config=TransferConfig(io_chunksize=4096))
    return file_digest(out)


@case
def threads_share_one_client(s3):
    # Handlers fan out with threads; one client, concurrent requests on the one channel.
    from concurrent.futures import ThreadPoolExecutor

    def work(i):
        key = P + f'thread/{i}'
        s3.put_object(Bucket=BUCKET, Key=key, Body=body(10000 + i * 997, i))
        got = s3.get_object(Bucket=BUCKET, Key=key)['Body'].read()
        return {'i': i, 'data': norm(got), 'head': s3.head_object(Bucket=BUCKET, Key=key)['ContentLength']}

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(16)))
    return {'results': results, 'listed': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'thread/')['KeyCount']}


@case
def download_file_overwrites(s3):
    path = work_file('overwrite', b'old content that is longer than the new one')
    s3.put_object(Bucket=BUCKET, Key=P + 'overwrite', Body=b'new')
    s3.download_file(BUCKET, P + 'overwrite', path)
    return file_digest(path)


@case
def upload_empty_file(s3):
    s3.upload_file(work_file('empty-up', b''), BUCKET, P + 'empty-up')
    path = work_file('empty-down')
    s3.download_file(BUCKET, P + 'empty-up', path)
    return {'head': norm(s3.head_object(Bucket=BUCKET, Key=P + 'empty-up')), 'file': file_digest(path)}


@case
def download_fileobj_not_writable(s3):
    return s3.download_fileobj(BUCKET, P + 'bytes', io.BytesIO(b'x').read())


@case
def large_body_streamed_reads(s3):
    s3.put_object(Bucket=BUCKET, Key=P + 'mid', Body=body(3 * 1024 * 1024 + 5, 21))
    b = s3.get_object(Bucket=BUCKET, Key=P + 'mid')['Body']
    sizes, h = [], hashlib.sha256()
    for chunk in b.iter_chunks(chunk_size=1 << 20):
        sizes.append(len(chunk))
        h.update(chunk)
    return {'sizes': sizes, 'sha256': h.hexdigest()[:16]}


@case
def client_exceptions_attribute(s3):
    return {'ClientError': s3.exceptions.ClientError is botocore.exceptions.ClientError,
            'from_code': s3.exceptions.from_code('NoSuchKey').__name__,
            'unknown_code': s3.exceptions.from_code('Whatever').__name__}


@case
def waiter_object_exists(s3):
    s3.get_waiter('object_exists').wait(Bucket=BUCKET, Key=P + 'bytes', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})
    return {'names': s3.waiter_names, 'waited': True}


@case
def waiter_object_exists_times_out(s3):
    s3.get_waiter('object_exists').wait(Bucket=BUCKET, Key=P + 'nope', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})


@case
def waiter_object_not_exists(s3):
    s3.get_waiter('object_not_exists').wait(Bucket=BUCKET, Key=P + 'nope', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})
    return True


@case
def waiter_object_not_exists_times_out(s3):
    s3.get_waiter('object_not_exists').wait(Bucket=BUCKET, Key=P + 'bytes', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})


@case
def waiter_denied(s3):
    try:
        s3.get_waiter('object_exists').wait(Bucket=DENIED, Key='secret', WaiterConfig={'Delay': 0, 'MaxAttempts': 2})
    except botocore.exceptions.WaiterError as e:
        return {'message': str(e), 'last_response': norm(e.last_response)}


@case
def waiter_unknown(s3):
    return s3.get_waiter('no_such_waiter')


@case
def resource_wait_until_exists(s3):
    obj = resource().Object(BUCKET, P + 'bytes')
    obj.wait_until_exists(WaiterConfig={'Delay': 0, 'MaxAttempts': 1})
    return obj.content_length
