# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's EventBridge, SES and CloudWatch clients: the events, mail and metrics a function sends, without the
real botocore. EventBridge: put_events (JSON protocol; with EndpointId, which chooses a global endpoint, the real
botocore's); SES: send_email, send_raw_email, send_templated_email; CloudWatch: put_metric_data (query protocol);
model slices _nexus_events_model.py, _nexus_ses_model.py, _nexus_cloudwatch_model.py. Every other call of these
services is the real botocore's (generic path).
"""

from botocore import _nexus_cloudwatch_model, _nexus_events_model, _nexus_ses_model
from botocore._nexus_json import JsonClient, serve_operations
from botocore._nexus_query import QueryClient


@serve_operations
class EventBridge(JsonClient):
    """EventBridge's put_events; the rest of EventBridge through the real botocore."""

    SERVICE = 'events'
    MODEL = _nexus_events_model


@serve_operations
class SES(QueryClient):
    """SES's sends; the rest of SES through the real botocore."""

    SERVICE = 'ses'
    MODEL = _nexus_ses_model


@serve_operations
class CloudWatch(QueryClient):
    """CloudWatch's put_metric_data; the rest of CloudWatch through the real botocore."""

    SERVICE = 'cloudwatch'
    MODEL = _nexus_cloudwatch_model
