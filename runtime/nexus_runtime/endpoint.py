# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Baseline mode: make NEXUS_S3_ENDPOINT the default endpoint of S3 clients the handler creates.

Debian's boto3 1.26 / botocore 1.29 ignore AWS_ENDPOINT_URL, and handler code must stay unchanged,
so ``botocore.session.Session.create_client`` is wrapped: an S3 client created without an
endpoint_url gets the store's. boto3 clients and resources both go through it. Nothing is imported
here: the wrap happens when (and only if) the handler itself imports botocore, because importing
boto3 costs about 40 MB and 0.2 s.
"""

import functools

from nexus_runtime import on_import

_TARGET = "botocore.session"
# Position of endpoint_url in Session.create_client(service_name, region_name, api_version, use_ssl, verify, endpoint_url, ...).
_ENDPOINT_URL_POSITION = 5


def install(endpoint_url: str) -> None:
    """Wraps create_client as soon as botocore.session is imported (at once if it already is)."""
    on_import.after_import(_TARGET, lambda module: _wrap(module, endpoint_url))


def _wrap(module, endpoint_url: str) -> None:
    session_class = module.Session
    original = session_class.create_client
    if getattr(original, "_nexus_default_endpoint", None) is not None:
        return

    @functools.wraps(original)
    def create_client(self, *args, **kwargs):
        service = args[0] if args else kwargs.get("service_name")
        given = args[_ENDPOINT_URL_POSITION] if len(args) > _ENDPOINT_URL_POSITION else kwargs.get("endpoint_url")
        if service == "s3" and given is None:
            kwargs["endpoint_url"] = endpoint_url
        return original(self, *args, **kwargs)

    create_client._nexus_default_endpoint = endpoint_url
    session_class.create_client = create_client
