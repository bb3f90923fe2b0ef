# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""What the stand-in reads of the real SDK's data in the function image (Debian's botocore and boto3, shadowed by the
stand-in): where it is, and what botocore's loader and endpoint resolver answer from it (the services, boto3's resources,
partitions, regions, waiter configurations). Read as JSON; the real SDK is not imported."""

import json
import os
import re
import sys

from botocore import _nexus_model_reader as reader


def data_folder(package='botocore'):
    """The data folder of the real package (botocore, boto3) the generic path would import (the first on sys.path
    after the stand-in's)."""
    stand_in = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for entry in sys.path:
        if os.path.abspath(entry or '.') == stand_in:
            continue
        candidate = os.path.join(entry or '.', package, 'data')
        if os.path.isdir(candidate):
            return candidate
    return None


def available_services(type_name='service-2', package='botocore'):
    """botocore's Loader.list_available_services: the services of the real package's data folder that have a
    ``type_name`` file in a version folder (Session.get_available_services; boto3's resources with resources-1)."""
    data = data_folder(package)
    if data is None:
        return []
    found = set()
    for service in os.listdir(data):
        folder = os.path.join(data, service)
        if os.path.isdir(folder) and any(os.path.exists(os.path.join(folder, version, type_name + '.json'))
                                         for version in os.listdir(folder)):
            found.add(service)
    return sorted(found)


def _endpoints():
    data = data_folder()
    if data is None:
        return {'partitions': []}
    with open(os.path.join(data, 'endpoints.json')) as f:
        return json.load(f)


def available_partitions():
    """Session.get_available_partitions: the partitions of botocore's endpoints.json."""
    return [partition['partition'] for partition in _endpoints()['partitions']]


def partition_for_region(region_name):
    """Session.get_partition_for_region: the partition of endpoints.json that lists the region or whose regionRegex
    matches it, else botocore's UnknownRegionError."""
    for partition in _endpoints()['partitions']:
        if region_name in partition['regions'] or \
                ('regionRegex' in partition and re.match(partition['regionRegex'], region_name)):
            return partition['partition']
    from botocore.exceptions import UnknownRegionError
    raise UnknownRegionError(region_name=region_name, error_msg='No partition found for provided region_name.')


def available_regions(service_name, partition_name='aws', allow_non_regional=False):
    """Session.get_available_regions: the endpoint names endpoints.json lists for the service's endpoint prefix in the
    partition (its regions only, unless allow_non_regional); [] for a service without a model."""
    data = data_folder()
    folder = os.path.join(data, service_name) if data and re.fullmatch(r'[a-z0-9-]+', service_name) else None
    if folder is None or not os.path.isdir(folder):
        return []
    model = reader.read_model_file(os.path.join(folder, sorted(os.listdir(folder))[-1]), 'service-2')
    prefix = model['metadata'].get('endpointPrefix', service_name)
    result = []
    for partition in _endpoints()['partitions']:
        if partition['partition'] != partition_name or prefix not in partition['services']:
            continue
        for name in partition['services'][prefix]['endpoints']:
            if allow_non_regional or name in partition['regions']:
                result.append(name)
    return result


_waiters = {}


def waiter_configs(service_name):
    """{waiter name: configuration} from the service's waiters-2.json in the image's botocore ({} without one)."""
    if service_name not in _waiters:
        data = data_folder()
        folder = os.path.join(data, service_name) if data else None
        configs = {}
        if folder is not None and os.path.isdir(folder):
            configs = (reader.read_model_file(os.path.join(folder, sorted(os.listdir(folder))[-1]), 'waiters-2')
                       or {}).get('waiters', {})
        _waiters[service_name] = configs
    return _waiters[service_name]


# The partition a region is in, by its name (botocore matches each partition's region list and regionRegex; these are
# the partitions of botocore 1.29's endpoints.json).
_PARTITION_PREFIXES = (('us-isob-', 'aws-iso-b'), ('us-iso-', 'aws-iso'), ('us-gov-', 'aws-us-gov'), ('cn-', 'aws-cn'))
_resolved = {}


def resolved_endpoint(endpoint_prefix, region):
    """(endpoint URL, region name) of a client of the service in the region as botocore's endpoint resolver gives
    them from endpoints.json: the region's entry or the service's defaults (SimpleDB's sdb.amazonaws.com, Resource
    Explorer's api.aws), or, for a service that is not regionalized, its partition endpoint (IAM:
    https://iam.amazonaws.com in 'aws-global'); None when the data names no such service (the default template then).
    The service's entry is found in the file's bytes and decoded alone (the file is 0.6 MB of JSON)."""
    key = (endpoint_prefix, region)
    if key not in _resolved:
        _resolved[key] = _resolve(endpoint_prefix, region)
    return _resolved[key]


def _resolve(endpoint_prefix, region):
    data = data_folder()
    if data is None:
        return None
    with open(os.path.join(data, 'endpoints.json'), 'rb') as f:
        text = f.read()
    partition = next((name for prefix, name in _PARTITION_PREFIXES if region.startswith(prefix)), 'aws')
    found = re.search(rb'"partition"\s*:\s*"%s"' % partition.encode(), text)
    services = re.compile(rb'"services"\s*:\s*\{').search(text, found.end()) if found else None
    if services is None:
        return None
    # The services object is its partition's last member: the next partition's own name ends the search.
    following = re.compile(rb'"partition"\s*:').search(text, services.end())
    end = following.start() if following else len(text)
    entry = re.compile(rb'"%s"\s*:\s*(?=\{)' % re.escape(endpoint_prefix.encode())).search(text, services.end(), end)
    if entry is None:
        return None
    service = reader.object_at(text, entry.end())
    endpoints, defaults = service.get('endpoints', {}), service.get('defaults', {})
    name = region
    if region not in endpoints and service.get('partitionEndpoint') and not service.get('isRegionalized', True):
        name = service['partitionEndpoint']
    chosen = endpoints.get(name, {})
    hostname = chosen.get('hostname') or defaults.get('hostname') or '{service}.{region}.{dnsSuffix}'
    # The partition's dnsSuffix is the last one before its name (its defaults' variants name theirs first).
    suffix = chosen.get('dnsSuffix') or defaults.get('dnsSuffix') or \
        re.findall(rb'"dnsSuffix"\s*:\s*"([^"]+)"', text[:found.start()])[-1].decode()
    return 'https://' + hostname.format(service=endpoint_prefix, region=name, dnsSuffix=suffix), name
