# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Runs a set-up on a module the moment it is first imported, before the import returns, so that the runtime adjusts a
library only for a function that loads it (importing it ahead would cost every cold start its import time and memory).
"""

import sys


def after_import(name: str, setup) -> None:
    """Calls ``setup(module)`` once module ``name`` has executed: now if it already has, else at its first import."""
    module = sys.modules.get(name)
    if module is not None:
        setup(module)
        return
    sys.meta_path.insert(0, _Finder(name, setup))


class _Finder:
    """Finds nothing itself: lets the other finders locate the module, then wraps its loader.
    (A plain class: importlib.abc would cost ~20 ms of every cold start.)"""

    def __init__(self, name: str, setup):
        self._name = name
        self._setup = setup

    def find_spec(self, fullname, path, target=None):
        if fullname != self._name:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _SetUpLoader(spec.loader, self._setup)
                sys.meta_path.remove(self)
                return spec
        return None


class _SetUpLoader:
    """The real loader, with the set-up run right after the module executes."""

    def __init__(self, inner, setup):
        self._inner = inner
        self._setup = setup

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        self._setup(module)

    def __getattr__(self, name):
        # get_source, get_filename, is_package, ... stay the real loader's.
        return getattr(self._inner, name)
