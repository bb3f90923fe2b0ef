# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""botocore.session for code that builds clients without boto3 (get_session().create_client("s3")): the stand-in's own
S3, Lambda and DynamoDB clients, every other service's the real botocore's (generic path)."""

import os


class Session:
    def __init__(self, session_vars=None, event_hooks=None, include_builtin_handlers=True, profile=None):
        self.profile = profile
        self._real = None

    def get_credentials(self):
        # The sandbox holds no credentials in nexus mode.
        return None

    # What the real SDK lists (read from its data in the image, as botocore's loader and endpoint resolver do).
    def get_available_services(self):
        from botocore._nexus_sdk_data import available_services
        return available_services()

    def get_available_partitions(self):
        from botocore._nexus_sdk_data import available_partitions
        return available_partitions()

    def get_partition_for_region(self, region_name):
        from botocore._nexus_sdk_data import partition_for_region
        return partition_for_region(region_name)

    def get_available_regions(self, service_name, partition_name='aws', allow_non_regional=False):
        from botocore._nexus_sdk_data import available_regions
        return available_regions(service_name, partition_name, allow_non_regional)

    def get_config_variable(self, logical_name, methods=None):
        if logical_name == 'region':
            return os.environ.get('AWS_DEFAULT_REGION') or os.environ.get('AWS_REGION')
        return None

    def set_credentials(self, access_key, secret_key, token=None):
        """Accepted and dropped: credentials live in the host's backend."""

    def create_client(self, service_name, region_name=None, api_version=None, use_ssl=True, verify=None,
                      endpoint_url=None, aws_access_key_id=None, aws_secret_access_key=None,
                      aws_session_token=None, config=None):
        client_class = None
        if service_name != 's3':
            from botocore._nexus_service import stand_in_client_class
            client_class = stand_in_client_class(service_name, api_version)
        if client_class is not None:
            # The stand-in's clients (its own, or one read from the service's model), the rest through the real SDK.
            if endpoint_url or aws_access_key_id is not None:
                from botocore import _nexus_generic
                _nexus_generic.say_routed(service_name, endpoint_url, aws_access_key_id is not None)
            return client_class(
                region_name, endpoint_url, config,
                lambda: self._real_client(service_name, region_name, api_version, endpoint_url, config))
        if service_name != 's3':
            return self._real_client(service_name, region_name, api_version, endpoint_url, config,
                                     aws_access_key_id is not None)
        from botocore.client import S3
        return S3(region_name, endpoint_url, config)

    def _real_client(self, service_name, region_name, api_version, endpoint_url, config, explicit=False):
        """A real botocore client (generic path)."""
        from botocore import _nexus_generic
        _nexus_generic.say_routed(service_name, endpoint_url, explicit)
        if self._real is None:
            self._real = _nexus_generic.real_boto3_session()
        return self._real.client(service_name, region_name=region_name, api_version=api_version,
                                 endpoint_url=endpoint_url, config=config)


def get_session(env_vars=None):
    return Session()
