# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""s3generic cases of a client with event handlers (client.meta.events): in nexus mode its calls go through the generic
path, where botocore emits its events as in baseline. s3generic.py runs them after its own."""

from difftest_common import BUCKET, case_list, client

P = 'gen/events/'
CASES, case = case_list()


@case
def client_event_handler_changes_a_put(s3):
    hooked = client()
    seen = []

    def add_type(params, event_name, **kwargs):
        seen.append(event_name)
        params.setdefault('ContentType', 'text/x-hooked')

    hooked.meta.events.register('before-parameter-build.s3.PutObject', add_type)
    hooked.meta.events.register('after-call.s3', lambda event_name, **kwargs: seen.append(event_name))
    hooked.put_object(Bucket=BUCKET, Key=P + 'hooked', Body=b'x')
    stored = hooked.head_object(Bucket=BUCKET, Key=P + 'hooked')['ContentType']
    hooked.meta.events.unregister('before-parameter-build.s3.PutObject', add_type)
    hooked.put_object(Bucket=BUCKET, Key=P + 'plain', Body=b'x')
    return {'seen': seen, 'stored': stored, 'after_unregister': s3.head_object(Bucket=BUCKET, Key=P + 'plain')['ContentType']}


@case
def client_event_handler_sees_an_error(s3):
    hooked = client()
    statuses = []
    hooked.meta.events.register(
        'after-call.s3.GetObject', lambda http_response, **kwargs: statuses.append(http_response.status_code))
    try:
        hooked.get_object(Bucket=BUCKET, Key=P + 'missing')
    except hooked.exceptions.NoSuchKey:
        statuses.append('NoSuchKey')
    return statuses
