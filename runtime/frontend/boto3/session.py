# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.session.Session: creates the stand-in S3 client and resource; other services are not offloaded."""

import os

from botocore.exceptions import NexusUnsupportedError


class Session:
    def __init__(self, aws_access_key_id=None, aws_secret_access_key=None, aws_session_token=None,
                 region_name=None, botocore_session=None, profile_name=None):
        # Credentials are accepted and not used: in nexus mode they live only in the host's backend (said once in
        # the function's log when a client is made from them).
        self._explicit_credentials = aws_access_key_id is not None or aws_secret_access_key is not None
        self._region_name = region_name
        self._profile_name = profile_name

    def __repr__(self):
        return f'Session(region_name={self.region_name!r})'

    @property
    def profile_name(self):
        return self._profile_name or 'default'

    @property
    def region_name(self):
        return self._region_name or os.environ.get('AWS_DEFAULT_REGION') or os.environ.get('AWS_REGION')

    @property
    def available_profiles(self):
        return []

    @property
    def events(self):
        raise NexusUnsupportedError(what='Session.events (botocore event hooks)')

    def get_available_services(self):
        return ['s3']

    def get_available_resources(self):
        return ['s3']

    def get_available_partitions(self):
        return ['aws']

    def get_available_regions(self, service_name, partition_name='aws', allow_non_regional=False):
        return []

    def get_credentials(self):
        # Like boto3 when no credentials are configured: the sandbox holds none.
        return None

    def client(self, service_name, region_name=None, api_version=None, use_ssl=True, verify=None,
               endpoint_url=None, aws_access_key_id=None, aws_secret_access_key=None,
               aws_session_token=None, config=None):
        _require_s3(service_name, 'client')
        from botocore.client import S3
        explicit = self._explicit_credentials or aws_access_key_id is not None or aws_secret_access_key is not None
        return S3(region_name or self._region_name, endpoint_url, config, explicit_credentials=explicit)

    def resource(self, service_name, region_name=None, api_version=None, use_ssl=True, verify=None,
                 endpoint_url=None, aws_access_key_id=None, aws_secret_access_key=None,
                 aws_session_token=None, config=None):
        _require_s3(service_name, 'resource')
        from boto3.resources.s3 import S3ServiceResource
        return S3ServiceResource(self.client('s3', region_name, endpoint_url=endpoint_url, config=config))


def _require_s3(service_name, kind):
    if service_name != 's3':
        raise NexusUnsupportedError(what=f'boto3.{kind}({service_name!r})')
