# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's SQS and SNS clients: the messages a function sends and takes, without the real botocore. SQS:
send_message, send_message_batch, receive_message, delete_message, delete_message_batch, change_message_visibility,
change_message_visibility_batch, get_queue_attributes, get_queue_url; SNS: publish, publish_batch (query protocol,
model slices _nexus_sqs_model.py and _nexus_sns_model.py). Every other call of these services is served from their
whole models, read on first need (ModelClient); what those do not serve is the real botocore's (generic path).
"""

from botocore import _nexus_sns_model, _nexus_sqs_model
from botocore._nexus_json import serve_operations
from botocore._nexus_query import QueryClient


@serve_operations
class SQS(QueryClient):
    """SQS's message calls; the rest of SQS from the whole model (ModelClient)."""

    SERVICE = 'sqs'
    MODEL = _nexus_sqs_model
    # _retry.json's sqs policy.
    LEGACY_CODES = frozenset((('RequestThrottled', 403),))


@serve_operations
class SNS(QueryClient):
    """SNS's publish calls; the rest of SNS from the whole model (ModelClient)."""

    SERVICE = 'sns'
    MODEL = _nexus_sns_model
