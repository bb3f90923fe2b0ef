# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's SSM and Secrets Manager clients: the configuration and secrets a function reads (often at its cold
start), without the real botocore. SSM: get_parameter, get_parameters, get_parameters_by_path, put_parameter,
delete_parameter; Secrets Manager: get_secret_value and a rotation function's describe_secret, get_random_password,
put_secret_value, update_secret_version_stage (model slices _nexus_ssm_model.py and _nexus_secretsmanager_model.py).
Every other call of these services is served from their whole models, read on first need (ModelClient); what those do
not serve is the real botocore's (generic path).
"""

from botocore import _nexus_secretsmanager_model, _nexus_ssm_model
from botocore._nexus_json import JsonClient, serve_operations


@serve_operations
class SSM(JsonClient):
    """SSM's parameter calls; the rest of SSM from the whole model (ModelClient)."""

    SERVICE = 'ssm'
    MODEL = _nexus_ssm_model


@serve_operations
class SecretsManager(JsonClient):
    """Secrets Manager's reads and rotation steps; the rest from the whole model (ModelClient)."""

    SERVICE = 'secretsmanager'
    MODEL = _nexus_secretsmanager_model
