# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""botocore.handlers: the handler functions handler code registers by name (the public-bucket idiom
``client.meta.events.register('choose-signer.s3.*', disable_signing)``)."""


def disable_signing(**kwargs):
    """Sends requests unsigned, as botocore's does; in nexus mode the sandbox signs nothing anyway (the backend does)."""
    from botocore import UNSIGNED
    return UNSIGNED
