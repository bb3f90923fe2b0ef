# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""boto3.session.Session: the stand-in's clients and resources (S3's fast path, the own and model-read clients of other
services, resources made from boto3's resources-1.json); what they leave through the real SDK (generic path)."""

import os

from botocore._nexus_events import EventHooks


class SessionEvents(EventHooks):
    """Session.events. botocore copies a session's handlers into each client the session makes, so a handler
    registered here reaches every client made afterwards: through an S3 client's meta.events (which sends that
    client's calls where botocore's events fire) or the meta.events of a real client of another service."""

    def __init__(self):
        self._handlers = []

    def unregister(self, event_name, handler=None, unique_id=None, unique_id_uses_count=False):
        self._handlers = [h for h in self._handlers if not (
            h[1] == event_name and ((handler is not None and h[2] is handler) or (unique_id is not None and h[3] == unique_id)))]

    def _add(self, how, event_name, handler, unique_id, unique_id_uses_count):
        self._handlers.append((how, event_name, handler, unique_id, unique_id_uses_count))

    def copy_into(self, client):
        for how, *registration in self._handlers:
            getattr(client.meta.events, how)(*registration)
        return client


class Session:
    def __init__(self, aws_access_key_id=None, aws_secret_access_key=None, aws_session_token=None,
                 region_name=None, botocore_session=None, profile_name=None):
        # Credentials are accepted and not used: in nexus mode they live only in the host's backend (said once in
        # the function's log when a client is made from them).
        self._explicit_credentials = aws_access_key_id is not None or aws_secret_access_key is not None
        self._region_name = region_name
        self._profile_name = profile_name
        self._real = None
        self._events = SessionEvents()

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
        return self._events

    # What the real SDK lists (read from its data in the image, as botocore's loader and endpoint resolver do).
    def get_available_services(self):
        from botocore._nexus_sdk_data import available_services
        return available_services()

    def get_available_resources(self):
        from botocore._nexus_sdk_data import available_services
        return available_services('resources-1', 'boto3')

    def get_available_partitions(self):
        from botocore._nexus_sdk_data import available_partitions
        return available_partitions()

    def get_partition_for_region(self, region_name):
        from botocore._nexus_sdk_data import partition_for_region
        return partition_for_region(region_name)

    def get_available_regions(self, service_name, partition_name='aws', allow_non_regional=False):
        from botocore._nexus_sdk_data import available_regions
        return available_regions(service_name, partition_name, allow_non_regional)

    def get_credentials(self):
        # Like boto3 when no credentials are configured: the sandbox holds none.
        return None

    def client(self, service_name, region_name=None, api_version=None, use_ssl=True, verify=None,
               endpoint_url=None, aws_access_key_id=None, aws_secret_access_key=None,
               aws_session_token=None, config=None):
        explicit = self._explicit_credentials or aws_access_key_id is not None or aws_secret_access_key is not None
        client_class = None
        if service_name != 's3':
            from botocore._nexus_service import stand_in_client_class
            client_class = stand_in_client_class(service_name, api_version)
        if client_class is not None:
            # The calls functions make served by the stand-in (its own clients, or one read from the service's model);
            # the rest of the service through the real SDK, loaded if ever needed.
            if endpoint_url or explicit:
                from botocore import _nexus_generic
                _nexus_generic.say_routed(service_name, endpoint_url, explicit)

            def real_client():
                return self._generic(explicit, endpoint_url, service_name).client(
                    service_name, region_name=region_name, api_version=api_version, endpoint_url=endpoint_url,
                    config=config)
            return self._events.copy_into(client_class(region_name or self._region_name, endpoint_url, config,
                                                       real_client))
        if service_name != 's3':
            generic = self._generic(explicit, endpoint_url, service_name)
            return self._events.copy_into(generic.client(service_name, region_name=region_name,
                                                         api_version=api_version, endpoint_url=endpoint_url,
                                                         config=config))
        from botocore.client import S3
        return self._events.copy_into(S3(region_name or self._region_name, endpoint_url, config,
                                         explicit_credentials=explicit))

    def resource(self, service_name, region_name=None, api_version=None, use_ssl=True, verify=None,
                 endpoint_url=None, aws_access_key_id=None, aws_secret_access_key=None,
                 aws_session_token=None, config=None):
        if service_name == 'dynamodb':
            return self._dynamodb_resource(region_name, api_version, endpoint_url, config, aws_access_key_id,
                                           aws_secret_access_key)
        if service_name != 's3':
            # Made from boto3's resources-1.json over the stand-in's client (boto3/resources/factory.py), else the
            # real boto3's resource.
            from boto3.resources.factory import stand_in_resource
            resource = stand_in_resource(self, service_name, region_name, api_version, endpoint_url, config, {
                'aws_access_key_id': aws_access_key_id, 'aws_secret_access_key': aws_secret_access_key,
                'aws_session_token': aws_session_token})
            if resource is not None:
                return resource
            explicit = self._explicit_credentials or aws_access_key_id is not None or aws_secret_access_key is not None
            return self._generic_resource(explicit, endpoint_url, service_name, region_name, api_version, config)
        from boto3.resources.s3 import S3ServiceResource
        return S3ServiceResource(self.client('s3', region_name, endpoint_url=endpoint_url, config=config))

    def _dynamodb_resource(self, region_name, api_version, endpoint_url, config, aws_access_key_id,
                           aws_secret_access_key):
        """boto3.resource('dynamodb'): made from resources-1.json over the stand-in's DynamoDB client with boto3's
        high-level interface (its calls the real resource's client would make go through that client, loaded on first
        need)."""
        explicit = self._explicit_credentials or aws_access_key_id is not None or aws_secret_access_key is not None
        if endpoint_url or explicit:
            from botocore import _nexus_generic
            _nexus_generic.say_routed('dynamodb', endpoint_url, explicit)
        from boto3.resources.dynamodb import HighLevelInterface
        from boto3.resources.factory import stand_in_resource
        from botocore._nexus_ddb import DynamoDB
        real = {}

        def real_client():
            if 'resource' not in real:
                real['resource'] = self._generic_resource(explicit, endpoint_url, 'dynamodb', region_name,
                                                          api_version, config)
            return real['resource'].meta.client
        client = self._events.copy_into(DynamoDB(region_name or self._region_name, endpoint_url, config, real_client,
                                                 high_level=HighLevelInterface()))
        resource = stand_in_resource(self, 'dynamodb', region_name, api_version, endpoint_url, config, client=client)
        if resource is None:
            return self._generic_resource(explicit, endpoint_url, 'dynamodb', region_name, api_version, config)
        return resource

    def _generic_resource(self, explicit, endpoint_url, service_name, region_name, api_version, config):
        """The real boto3 resource (generic path), the session's event handlers copied into its client."""
        generic = self._generic(explicit, endpoint_url, service_name)
        resource = generic.resource(service_name, region_name=region_name, api_version=api_version,
                                    endpoint_url=endpoint_url, config=config)
        self._events.copy_into(resource.meta.client)
        return resource

    def _generic(self, explicit_credentials, endpoint_url, service_name):
        """The real boto3 Session behind this one, for every service but S3 (the generic path, loaded on first need)."""
        from botocore import _nexus_generic
        _nexus_generic.say_routed(service_name, endpoint_url, explicit_credentials)
        if self._real is None:
            self._real = _nexus_generic.real_boto3_session(self.region_name)
        return self._real
