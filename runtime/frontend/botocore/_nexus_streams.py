# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's Kinesis, Firehose and Step Functions clients: the records and workflow events a function sends,
without the real botocore. Kinesis: put_record, put_records; Firehose: put_record, put_record_batch; Step Functions:
start_execution, describe_execution, send_task_success, send_task_failure, send_task_heartbeat (JSON protocol, model
slices _nexus_kinesis_model.py, _nexus_firehose_model.py, _nexus_stepfunctions_model.py). Every other call of these
services is served from their whole models, read on first need (ModelClient); what those do not serve is the real
botocore's (generic path).
"""

from botocore import _nexus_firehose_model, _nexus_kinesis_model, _nexus_stepfunctions_model
from botocore._nexus_json import JsonClient, serve_operations


@serve_operations
class Kinesis(JsonClient):
    """Kinesis's record puts; the rest of Kinesis from the whole model (ModelClient)."""

    SERVICE = 'kinesis'
    MODEL = _nexus_kinesis_model


@serve_operations
class Firehose(JsonClient):
    """Firehose's record puts; the rest of Firehose from the whole model (ModelClient)."""

    SERVICE = 'firehose'
    MODEL = _nexus_firehose_model


@serve_operations
class SFN(JsonClient):
    """Step Functions' execution start and task callbacks; the rest from the whole model (ModelClient)."""

    SERVICE = 'stepfunctions'
    MODEL = _nexus_stepfunctions_model
