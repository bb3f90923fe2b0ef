# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's clients of what a function announces: events, mail, metrics and messages to connected clients and
devices, without the real botocore. EventBridge: put_events (JSON protocol; with EndpointId, which chooses a global
endpoint, the real botocore's); SES: send_email, send_raw_email, send_templated_email; CloudWatch: put_metric_data
(query protocol); SES v2: send_email, send_bulk_email; API Gateway's management API: post_to_connection,
get_connection, delete_connection; IoT data: publish, get_thing_shadow, update_thing_shadow (REST-JSON protocol);
model slices _nexus_{events,ses,cloudwatch,sesv2,apigatewaymanagementapi,iot_data}_model.py. Every other call of
these services is served from their whole models, read on first need (ModelClient); what those do not serve is the
real botocore's (generic path).
"""

from botocore import (_nexus_apigatewaymanagementapi_model, _nexus_cloudwatch_model, _nexus_events_model,
                      _nexus_iot_data_model, _nexus_ses_model, _nexus_sesv2_model)
from botocore._nexus_json import JsonClient, serve_operations
from botocore._nexus_query import QueryClient
from botocore._nexus_rest import RestJsonClient


@serve_operations
class EventBridge(JsonClient):
    """EventBridge's put_events; the rest of EventBridge from the whole model (ModelClient)."""

    SERVICE = 'events'
    MODEL = _nexus_events_model


@serve_operations
class SES(QueryClient):
    """SES's sends; the rest of SES from the whole model (ModelClient)."""

    SERVICE = 'ses'
    MODEL = _nexus_ses_model


@serve_operations
class CloudWatch(QueryClient):
    """CloudWatch's put_metric_data; the rest of CloudWatch from the whole model (ModelClient)."""

    SERVICE = 'cloudwatch'
    MODEL = _nexus_cloudwatch_model


@serve_operations
class SESV2(RestJsonClient):
    """SES v2's sends; the rest of SES v2 from the whole model (ModelClient)."""

    SERVICE = 'sesv2'
    MODEL = _nexus_sesv2_model


@serve_operations
class ApiGatewayManagementApi(RestJsonClient):
    """API Gateway's WebSocket connection calls (the client is made with the API stage's endpoint, whose path the
    requests keep)."""

    SERVICE = 'apigatewaymanagementapi'
    MODEL = _nexus_apigatewaymanagementapi_model


@serve_operations
class IoTDataPlane(RestJsonClient):
    """IoT data's publish and thing shadows; the rest of IoT data from the whole model (ModelClient)."""

    SERVICE = 'iot-data'
    MODEL = _nexus_iot_data_model
