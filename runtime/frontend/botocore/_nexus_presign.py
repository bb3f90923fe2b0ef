# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Presigned URLs and RDS authentication tokens signed by the backend (GeneratePresignedUrl over the channel).

The sandbox holds no credentials, so a URL that carries a signature (``generate_presigned_url`` of any client, the
presigned URL botocore's handlers put into EC2's CopySnapshot or RDS's cross-region copies, ``generate_db_auth_token``)
is signed by the backend, with the key it signs that service's calls with and within the function's grants. S3's fast
path asks for its own (botocore/client.py); this is the way of every other one.
"""

import os

# Headers botocore's SigV4 never signs (auth.py's SIGNED_HEADERS_BLACKLIST): not part of the URL's request.
_UNSIGNED_HEADERS = frozenset(('expect', 'user-agent', 'x-amzn-trace-id'))


def signed_by_backend(wire, timeout=60):
    """The URL the backend signs for ``wire`` (GeneratePresignedUrl's parameters); a refusal (grants, a service the
    node has no endpoint for) is a ClientError of operation GeneratePresignedUrl."""
    from botocore.client import _get_transport, channel_errors, channel_timeouts
    from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError
    try:
        response = _get_transport().call('GeneratePresignedUrl', wire, None, timeout=timeout)
    except channel_errors() as e:
        raise ConnectionClosedError(endpoint_url=f'GeneratePresignedUrl (Nexus channel: {e})') from e
    except channel_timeouts():
        raise ReadTimeoutError(endpoint_url='GeneratePresignedUrl (Nexus channel)') from None
    if response.body is not None:
        response.body.close()
    meta = response.meta or {}
    if response.status >= 300 or 'Url' not in meta:
        error = dict(meta.get('Error') or {'Code': str(response.status), 'Message': ''})
        raise ClientError({'Error': error, 'ResponseMetadata': {
            'RequestId': os.urandom(8).hex().upper(), 'HTTPStatusCode': response.status, 'HTTPHeaders': {},
            'RetryAttempts': 0}}, 'GeneratePresignedUrl')
    return meta['Url']


def db_auth_token(hostname, port, user, region):
    """botocore's generate_db_auth_token: a token for user at hostname:port, signed for region by the backend."""
    return signed_by_backend({'Operation': 'DbAuthToken', 'Hostname': hostname, 'Port': port, 'User': user,
                              'Region': region})


def signed_headers_of(headers):
    """The request headers a presigned URL signs (and its holder must send): all but those SigV4 leaves out."""
    return {name: value for name, value in headers.items() if name.lower() not in _UNSIGNED_HEADERS}
