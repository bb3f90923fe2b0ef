# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""difftest cases: ListObjectsV2 and the paginator."""

from difftest_common import BUCKET, DENIED, MISSING, P, norm, case


def _tree(s3):
    for k in ('tree/a.txt', 'tree/b.txt', 'tree/sub/c.txt', 'tree/sub/d.txt', 'tree/sub2/e.txt', 'tree/z.txt'):
        s3.put_object(Bucket=BUCKET, Key=P + k, Body=k.encode())


@case
def list_prefix(s3):
    _tree(s3)
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/')


@case
def list_delimiter(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/')


@case
def list_max_keys_and_continue(s3):
    first = s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', MaxKeys=2)
    second = s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', MaxKeys=2,
                                ContinuationToken=first['NextContinuationToken'])
    token_types = [type(first.get('NextContinuationToken')).__name__]
    first.pop('NextContinuationToken', None)
    second.pop('NextContinuationToken', None)
    second.pop('ContinuationToken', None)
    return {'first': norm(first), 'second': norm(second), 'token_types': token_types}


@case
def list_delimiter_max_keys(s3):
    page = s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/', MaxKeys=3)
    page.pop('NextContinuationToken', None)
    return page


@case
def list_start_after(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', StartAfter=P + 'tree/sub/c.txt')


@case
def list_v2_fetch_owner(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'tree/', FetchOwner=True, MaxKeys=2)


@case
def list_empty_result(s3):
    return s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'nothing-here/')


@case
def list_missing_bucket(s3):
    return s3.list_objects_v2(Bucket=MISSING)


@case
def list_denied_bucket(s3):
    return s3.list_objects_v2(Bucket=DENIED)


@case
def list_v1_prefix(s3):
    return s3.list_objects(Bucket=BUCKET, Prefix=P + 'tree/')


@case
def list_v1_delimiter_truncated(s3):
    return s3.list_objects(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/', MaxKeys=3)


@case
def list_v1_marker_truncated(s3):
    return s3.list_objects(Bucket=BUCKET, Prefix=P + 'tree/', Marker=P + 'tree/b.txt', MaxKeys=2)


@case
def list_v1_paginator(s3):
    pages = s3.get_paginator('list_objects').paginate(Bucket=BUCKET, Prefix=P + 'tree/', PaginationConfig={'PageSize': 2})
    return [[c['Key'] for c in page.get('Contents', [])] for page in pages]


@case
def list_v1_paginator_delimiter(s3):
    pages = s3.get_paginator('list_objects').paginate(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/',
                                                      PaginationConfig={'PageSize': 2})
    return [page for page in pages]


@case
def paginate_pages(s3):
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=P + 'tree/',
                                                         PaginationConfig={'PageSize': 2})
    return [[c['Key'] for c in page.get('Contents', [])] for page in pages]


@case
def paginate_delimiter(s3):
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=P + 'tree/', Delimiter='/',
                                                         PaginationConfig={'PageSize': 2})
    return [{'keys': [c['Key'] for c in page.get('Contents', [])],
             'prefixes': [c['Prefix'] for c in page.get('CommonPrefixes', [])],
             'KeyCount': page.get('KeyCount'), 'IsTruncated': page.get('IsTruncated')} for page in pages]


@case
def paginate_max_items_and_resume(s3):
    paginator = s3.get_paginator('list_objects_v2')
    first = paginator.paginate(Bucket=BUCKET, Prefix=P + 'tree/', PaginationConfig={'PageSize': 2, 'MaxItems': 3})
    keys = [[c['Key'] for c in page.get('Contents', [])] for page in first]
    rest = paginator.paginate(Bucket=BUCKET, Prefix=P + 'tree/',
                              PaginationConfig={'PageSize': 2, 'StartingToken': first.resume_token})
    return {'first': keys, 'rest': [[c['Key'] for c in page.get('Contents', [])] for page in rest],
            'resume_token_type': type(first.resume_token).__name__}


@case
def paginate_build_full_result(s3):
    result = s3.get_paginator('list_objects_v2').paginate(
        Bucket=BUCKET, Prefix=P + 'tree/', PaginationConfig={'PageSize': 4, 'MaxItems': 5}).build_full_result()
    return {'keys': [c['Key'] for c in result.get('Contents', [])], 'fields': sorted(result),
            'next_token_type': type(result.get('NextToken')).__name__}


@case
def paginate_search(s3):
    pages = s3.get_paginator('list_objects_v2').paginate(Bucket=BUCKET, Prefix=P + 'tree/')
    return list(pages.search('Contents[].Key'))


@case
def paginate_missing_bucket(s3):
    return list(s3.get_paginator('list_objects_v2').paginate(Bucket=MISSING))


@case
def timestamp_zones(s3):
    # botocore parses an XML timestamp (listings, a copy's result, ListBuckets) with dateutil, which gives tzlocal() for
    # "Z" where the local zone is named UTC (TZ=:UTC on Lambda), and a header's HTTP date (GET, HEAD) as tzutc().
    s3.put_object(Bucket=BUCKET, Key=P + 'zones/a', Body=b'z')
    copied = s3.copy_object(Bucket=BUCKET, Key=P + 'zones/b', CopySource={'Bucket': BUCKET, 'Key': P + 'zones/a'})
    stamps = {'listed': s3.list_objects_v2(Bucket=BUCKET, Prefix=P + 'zones/')['Contents'][0]['LastModified'],
              'listed_v1': s3.list_objects(Bucket=BUCKET, Prefix=P + 'zones/')['Contents'][0]['LastModified'],
              'copied': copied['CopyObjectResult']['LastModified'],
              'bucket': s3.list_buckets()['Buckets'][0]['CreationDate'],
              'get': s3.get_object(Bucket=BUCKET, Key=P + 'zones/a')['LastModified'],
              'head': s3.head_object(Bucket=BUCKET, Key=P + 'zones/a')['LastModified']}
    return {name: [repr(stamp.tzinfo), stamp.utcoffset().total_seconds()] for name, stamp in stamps.items()}
