# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Nexus stand-in for botocore: the pieces handler code imports, nothing that opens a socket."""

# The version of Debian's real botocore that this stand-in matches.
__version__ = '1.29.27'

import os as _os
import sys as _sys

_STAND_IN_ROOT = _os.path.dirname(_os.path.dirname(_os.path.abspath(__file__)))


class _MissingFromStandIn:
    """Last on sys.meta_path: a boto3 or botocore module the stand-in lacks (botocore.stub, botocore.auth, ... or one
    the real s3transfer asks for) fails with a message that says why and what to do, not a bare "No module named". Only
    while the package is the stand-in: the generic path's real SDK, imported beside it, keeps Python's own errors."""

    @staticmethod
    def find_spec(name, path=None, target=None):
        top = name.partition('.')[0]
        package = _sys.modules.get(top) if top in ('boto3', 'botocore') and '.' in name else None
        if package is None or not (getattr(package, '__file__', None) or '').startswith(_STAND_IN_ROOT + _os.sep):
            return None
        raise ModuleNotFoundError(
            f"No module named '{name}': in nexus mode the function's boto3 and botocore are the Nexus stand-in, "
            'which sends calls over the Nexus channel and has no credentials or network of its own, and it does not '
            f'provide {name}. Set "io: baseline" in the function\'s function.yaml and redeploy to use the real SDK.',
            name=name)


if not any(isinstance(finder, _MissingFromStandIn) for finder in _sys.meta_path):
    _sys.meta_path.append(_MissingFromStandIn())


class UNSIGNED:
    """botocore.UNSIGNED: ``Config(signature_version=UNSIGNED)`` asks for anonymous requests. In nexus mode the sandbox
    signs nothing either way (the backend signs every call, within the function's grants); the real botocore of the
    generic path is given this same object, so its identity checks hold."""

    def __copy__(self):
        return self

    def __deepcopy__(self, memodict):
        return self


UNSIGNED = UNSIGNED()


# The names botocore gives that its rules would not (its prepopulated cases).
_NAMED = {
    'CreateCachediSCSIVolume': 'create_cached_iscsi_volume', 'DescribeCachediSCSIVolumes': 'describe_cached_iscsi_volumes',
    'DescribeStorediSCSIVolumes': 'describe_stored_iscsi_volumes', 'CreateStorediSCSIVolume': 'create_stored_iscsi_volume',
    'ListHITsForQualificationType': 'list_hits_for_qualification_type', 'ExecutePartiQLStatement': 'execute_partiql_statement',
    'ExecutePartiQLTransaction': 'execute_partiql_transaction', 'ExecutePartiQLBatch': 'execute_partiql_batch',
}


def xform_name(name, sep='_'):
    """botocore's CamelCase to snake_case (GetObject -> get_object, ListWebACLs -> list_web_acls): a name that holds
    ``sep`` is kept; a trailing plural acronym is one word."""
    if sep in name:
        return name
    if name in _NAMED:
        return _NAMED[name].replace('_', sep)
    tail = ''
    end = len(name) - 1
    if end >= 2 and name[end] == 's' and name[end - 1].isupper() and name[end - 2].isupper():
        start = end - 1
        while start > 0 and name[start - 1].isupper():
            start -= 1
        name, tail = name[:start], sep + name[start:].lower()
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append(sep)
        out.append(ch.lower())
    return ''.join(out) + tail
