# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Baseline mode: the endpoints the node hands a sandbox (NEXUS_<SERVICE>_ENDPOINT: the store for S3, the node's
signing proxy for Lambda and node.json's services) become the default endpoints of the clients the handler creates.

Debian's boto3 1.26 / botocore 1.29 ignore AWS_ENDPOINT_URL, and handler code must stay unchanged,
so ``botocore.session.Session.create_client`` is wrapped: a client of one of those services created without an
endpoint_url gets the node's. boto3 clients and resources both go through it. Nothing is imported
here: the wrap happens when (and only if) the handler itself imports botocore, because importing
boto3 costs about 40 MB and 0.2 s.
"""

import functools

from nexus_runtime import on_import

_TARGET = "botocore.session"
_PREFIX, _SUFFIX = "NEXUS_", "_ENDPOINT"
# Position of endpoint_url in Session.create_client(service_name, region_name, api_version, use_ssl, verify, endpoint_url, ...).
_ENDPOINT_URL_POSITION = 5


def from_environment(env) -> dict:
    """botocore's service name to endpoint, from every NEXUS_<SERVICE>_ENDPOINT (the node writes '-' as '_', and no
    botocore service name has '_')."""
    return {name[len(_PREFIX):-len(_SUFFIX)].lower().replace("_", "-"): url
            for name, url in env.items() if name.startswith(_PREFIX) and name.endswith(_SUFFIX) and len(name) > len(_PREFIX + _SUFFIX) and url}


def install(endpoints: dict) -> None:
    """Wraps create_client as soon as botocore.session is imported (at once if it already is)."""
    on_import.after_import(_TARGET, lambda module: _wrap(module, dict(endpoints)))


def _wrap(module, endpoints: dict) -> None:
    session_class = module.Session
    original = session_class.create_client
    if getattr(original, "_nexus_default_endpoints", None) is not None:
        return

    @functools.wraps(original)
    def create_client(self, *args, **kwargs):
        service = args[0] if args else kwargs.get("service_name")
        given = args[_ENDPOINT_URL_POSITION] if len(args) > _ENDPOINT_URL_POSITION else kwargs.get("endpoint_url")
        if given is None and service in endpoints:
            kwargs["endpoint_url"] = endpoints[service]
        return original(self, *args, **kwargs)

    create_client._nexus_default_endpoints = endpoints
    session_class.create_client = create_client
