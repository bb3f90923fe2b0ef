# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The stand-in's KMS and STS clients: the keys and identity calls a function makes (often at its cold start, to decrypt
its configuration or take a role), without the real botocore. KMS: decrypt, encrypt, generate_data_key,
generate_data_key_without_plaintext, generate_random, re_encrypt, sign, verify (JSON protocol); STS:
get_caller_identity, assume_role (query protocol); model slices _nexus_kms_model.py and _nexus_sts_model.py. Every
other call of these services is served from their whole models, read on first need (ModelClient); what those do not
serve is the real botocore's (generic path).

In nexus mode the backend signs every call with the node's key for the service's endpoint, within the function's grants:
get_caller_identity names the identity the node signs with, as it would name the function's role on Lambda.
"""

import os

from botocore import _nexus_kms_model, _nexus_sts_model
from botocore._nexus_json import JsonClient, serve_operations
from botocore._nexus_query import QueryClient

# The regions botocore 1.29 sends STS calls to the global endpoint for (sts_regional_endpoints = legacy, its
# default): its endpoint rule set's list.
_STS_GLOBAL_REGIONS = frozenset((
    'aws-global', 'ap-northeast-1', 'ap-south-1', 'ap-southeast-1', 'ap-southeast-2', 'ca-central-1',
    'eu-central-1', 'eu-north-1', 'eu-west-1', 'eu-west-2', 'eu-west-3', 'sa-east-1', 'us-east-1', 'us-east-2',
    'us-west-1', 'us-west-2'))


@serve_operations
class KMS(JsonClient):
    """KMS's data-key and cryptographic calls; the rest of KMS from the whole model (ModelClient)."""

    SERVICE = 'kms'
    MODEL = _nexus_kms_model


@serve_operations
class STS(QueryClient):
    """STS's get_caller_identity and assume_role; the rest of STS from the whole model (ModelClient)."""

    SERVICE = 'sts'
    MODEL = _nexus_sts_model
    # _retry.json's sts policy; standard mode's special checker (retries/special.py).
    LEGACY_CODES = frozenset((('IDPCommunicationError', 400),))
    STANDARD_CODES = frozenset(('IDPCommunicationError',))

    def _default_endpoint(self, region):
        if region in _STS_GLOBAL_REGIONS and os.environ.get('AWS_STS_REGIONAL_ENDPOINTS', 'legacy') != 'regional':
            return 'https://sts.amazonaws.com'
        return super()._default_endpoint(region)
