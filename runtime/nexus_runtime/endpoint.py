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
import sys

_TARGET = "botocore.session"
# Position of endpoint_url in Session.create_client(service_name, region_name, api_version, use_ssl, verify, endpoint_url, ...).
_ENDPOINT_URL_POSITION = 5


def install(endpoint_url: str) -> None:
    """Wraps create_client as soon as botocore.session is imported (at once if it already is)."""
    module = sys.modules.get(_TARGET)
    if module is not None:
        _wrap(module, endpoint_url)
        return
    sys.meta_path.insert(0, _Finder(endpoint_url))


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


class _Finder:
    """Finds nothing itself: lets the normal finders locate botocore.session, then wraps its loader.
    (A plain class: importlib.abc would cost ~20 ms of every cold start.)"""

    def __init__(self, endpoint_url: str):
        self._endpoint_url = endpoint_url

    def find_spec(self, fullname, path, target=None):
        if fullname != _TARGET:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _WrappingLoader(spec.loader, self._endpoint_url)
                sys.meta_path.remove(self)
                return spec
        return None


class _WrappingLoader:
    """The real loader, with create_client wrapped right after botocore.session executes."""

    def __init__(self, inner, endpoint_url: str):
        self._inner = inner
        self._endpoint_url = endpoint_url

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        _wrap(module, self._endpoint_url)

    def __getattr__(self, name):
        # get_source, get_filename, is_package, ... stay the real loader's.
        return getattr(self._inner, name)
