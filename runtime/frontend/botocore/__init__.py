# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Nexus stand-in for botocore: the pieces handler code imports, nothing that opens a socket."""

# The version of Debian's real botocore that this stand-in matches.
__version__ = '1.29.27'


class UNSIGNED:
    """botocore.UNSIGNED: ``Config(signature_version=UNSIGNED)`` asks for anonymous requests. In nexus mode the sandbox
    signs nothing either way (the backend signs every call, within the function's grants); the real botocore of the
    generic path is given this same object, so its identity checks hold."""

    def __copy__(self):
        return self

    def __deepcopy__(self, memodict):
        return self


UNSIGNED = UNSIGNED()


def xform_name(name, sep='_'):
    """CamelCase to snake_case for the names this stand-in uses (GetObject -> get_object)."""
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper() or (i + 1 < len(name) and name[i + 1].islower())):
            out.append(sep)
        out.append(ch.lower())
    return ''.join(out)
