# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: Resource API."""

import botocore.exceptions

from difftest_common import BUCKET, MISSING, P, body, case, file_digest, norm, resource, work_file


@case
def resource_object_attributes(s3):
    obj = resource().Object(BUCKET, P + 'text.txt')
    return {'content_length': obj.content_length, 'e_tag': obj.e_tag, 'content_type': obj.content_type,
            'metadata': obj.metadata, 'last_modified': norm(obj.last_modified), 'version_id': obj.version_id,
            'repr': repr(obj), 'bucket_name': obj.bucket_name, 'key': obj.key}


@case
def resource_object_get_put_delete(s3):
    obj = resource().Bucket(BUCKET).Object(P + 'res-obj')
    put = obj.put(Body=b'resource body', ContentType='text/x-res')
    got = obj.get()
    deleted = obj.delete()
    return {'put': norm(put), 'get': norm(got), 'delete': norm(deleted)}


@case
def resource_object_load_missing(s3):
    resource().Object(BUCKET, P + 'nope').load()


@case
def resource_missing_attribute(s3):
    return resource().Object(BUCKET, P + 'nope').content_length


@case
def resource_identity(s3):
    r = resource()
    return {'eq': r.Object(BUCKET, 'k') == r.Object(BUCKET, 'k'),
            'ne': r.Object(BUCKET, 'k') == r.Object(BUCKET, 'j'),
            'bucket': repr(r.Bucket(BUCKET)), 'summary': repr(r.ObjectSummary(BUCKET, 'k')),
            'hash_eq': hash(r.Object(BUCKET, 'k')) == hash(r.Object(BUCKET, 'k'))}


@case
def resource_missing_identifier(s3):
    return resource().Object(BUCKET)


@case
def resource_collection_filter(s3):
    summaries = list(resource().Bucket(BUCKET).objects.filter(Prefix=P + 'tree/'))
    return [{'key': s.key, 'size': s.size, 'e_tag': s.e_tag, 'bucket_name': s.bucket_name,
             'storage_class': s.storage_class, 'last_modified': norm(s.last_modified), 'repr': repr(s)}
            for s in summaries]


@case
def resource_collection_limit_and_pages(s3):
    objects = resource().Bucket(BUCKET).objects
    return {'limit': [s.key for s in objects.filter(Prefix=P + 'tree/').limit(2)],
            'pages': [len(p) for p in objects.filter(Prefix=P + 'tree/').page_size(4).pages()],
            'all_count': len(list(objects.all()))}


@case
def resource_summary_object_and_get(s3):
    summary = next(iter(resource().Bucket(BUCKET).objects.filter(Prefix=P + 'tree/a')))
    return {'object': repr(summary.Object()), 'get': norm(summary.get())}


@case
def resource_bucket_transfers(s3):
    bucket = resource().Bucket(BUCKET)
    bucket.upload_file(work_file('res-up', body(20000, 2)), P + 'res-up')
    path = work_file('res-down')
    bucket.download_file(P + 'res-up', path)
    obj = bucket.Object(P + 'res-up')
    path2 = work_file('res-down2')
    obj.download_file(path2)
    obj.upload_file(work_file('res-up2', body(100, 4)))
    return {'bucket_down': file_digest(path), 'object_down': file_digest(path2), 'after_upload': obj.content_length}


@case
def resource_bucket_put_object(s3):
    obj = resource().Bucket(BUCKET).put_object(Key=P + 'bucket-put', Body=b'from bucket')
    return {'type': type(obj).__name__, 'repr': repr(obj), 'size': obj.content_length}


@case
def resource_collection_delete(s3):
    bucket = resource().Bucket(BUCKET)
    for i in range(3):
        bucket.put_object(Key=P + f'coll-del/{i}', Body=b'x')
    responses = bucket.objects.filter(Prefix=P + 'coll-del/').delete()
    return {'responses': norm(responses), 'left': [s.key for s in bucket.objects.filter(Prefix=P + 'coll-del/')]}


@case
def resource_action_drops_loaded_data(s3):
    obj = resource().Object(BUCKET, P + 'res-reload')
    obj.put(Body=b'one')
    first = obj.content_length
    obj.put(Body=b'three')
    return [first, obj.content_length]


@case
def resource_multipart_upload(s3):
    upload = resource().Object(BUCKET, P + 'res-mpu').initiate_multipart_upload(ContentType='text/x-mpu')
    first = upload.Part(1).upload(Body=body(5 << 20, 8))
    second = upload.Part(2).upload(Body=b'tail')
    done = upload.complete(MultipartUpload={'Parts': [{'PartNumber': 1, 'ETag': first['ETag']},
                                                      {'PartNumber': 2, 'ETag': second['ETag']}]})
    return {'upload': repr(upload).replace(upload.id, '<id>'), 'part': repr(upload.Part(2)).replace(upload.id, '<id>'),
            'object': repr(done), 'size': done.content_length, 'e_tag': done.e_tag, 'type': done.content_type}


@case
def resource_multipart_abort(s3):
    upload = resource().Object(BUCKET, P + 'res-mpu-abort').initiate_multipart_upload()
    aborted = upload.abort()
    try:
        upload.Part(1).upload(Body=b'x')
        then = 'uploaded'
    except botocore.exceptions.ClientError as e:
        then = e.response['Error']['Code']
    return {'abort': norm(aborted), 'then': then}


@case
def resource_buckets_and_bucket_load(s3):
    r = resource()
    return {'names': [b.name for b in r.buckets.all()], 'collection': repr(r.buckets),
            'creation_date': norm(r.Bucket(BUCKET).creation_date), 'missing': r.Bucket(MISSING).creation_date}


@case
def resource_create_bucket_denied(s3):
    return resource().create_bucket(Bucket=BUCKET + '-res-new')


@case
def resource_version_without_data_cannot_load(s3):
    return resource().Object(BUCKET, P + 'text.txt').Version('null').size

