# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Nexus stand-in for boto3 (nexus I/O mode).

Same entry points as boto3 1.26 (client, resource, Session, setup_default_session);
S3 calls travel over the Nexus channel to the host's backend instead of HTTP.
"""

from boto3.session import Session

# The version of Debian's real boto3 that this stand-in matches.
__version__ = '1.26.27'
__author__ = 'Nexus contributors'

DEFAULT_SESSION = None


def setup_default_session(**kwargs):
    global DEFAULT_SESSION
    DEFAULT_SESSION = Session(**kwargs)


def _get_default_session():
    if DEFAULT_SESSION is None:
        setup_default_session()
    return DEFAULT_SESSION


def set_stream_logger(name='boto3', level=None, format_string=None):
    """Accepted for compatibility: the stand-in does no wire logging worth streaming."""


def client(*args, **kwargs):
    return _get_default_session().client(*args, **kwargs)


def resource(*args, **kwargs):
    return _get_default_session().resource(*args, **kwargs)

