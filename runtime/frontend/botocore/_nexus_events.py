# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""What client.meta.events and Session.events share: botocore's registration methods and its check of a handler."""


class EventHooks:
    """register, register_first and register_last, each handing (how, event name, handler, unique id, count flag) to
    the subclass's _add once the handler is known callable, as botocore checks it."""

    def register(self, event_name, handler, unique_id=None, unique_id_uses_count=False):
        self._checked_add('register', event_name, handler, unique_id, unique_id_uses_count)

    def register_first(self, event_name, handler, unique_id=None, unique_id_uses_count=False):
        self._checked_add('register_first', event_name, handler, unique_id, unique_id_uses_count)

    def register_last(self, event_name, handler, unique_id=None, unique_id_uses_count=False):
        self._checked_add('register_last', event_name, handler, unique_id, unique_id_uses_count)

    def _checked_add(self, how, event_name, handler, unique_id, unique_id_uses_count):
        if not callable(handler):
            raise ValueError(f'Event handler {handler!r} must be callable.')
        self._add(how, event_name, handler, unique_id, unique_id_uses_count)

    def _add(self, how, event_name, handler, unique_id, unique_id_uses_count):
        raise NotImplementedError
