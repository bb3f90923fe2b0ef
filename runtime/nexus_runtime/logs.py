# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Python's ``logging`` as Lambda's runtime sets it up: one handler on the root logger, before the handler's module
runs, that writes each record to stdout as ``[LEVEL]\\t<UTC time>Z\\t<request id>\\t<message>``. So the usual
``logger = logging.getLogger(); logger.setLevel(logging.INFO); logger.info(...)`` is logged, and a module-level
``logging.basicConfig(...)`` does nothing, as on Lambda.

A function that never imports ``logging`` does not pay for it (10 modules, ~1 MB beside the runtime's own): the
set-up runs the moment the function first imports it (``install``)."""

import sys
import time

from nexus_runtime import on_import

_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"

# The invocation running now ("" before the first): every record carries it, as Lambda's records do.
current_request_id = ""


def install() -> None:
    """Sets logging up now if it is loaded, else when the function first imports it."""
    on_import.after_import("logging", configure)


def configure(logging) -> None:
    class LambdaLogHandler(logging.Handler):
        def emit(self, record):
            try:
                sys.stdout.write(self.format(record))
            except Exception:
                self.handleError(record)

    class RequestIdFilter(logging.Filter):
        def filter(self, record):
            record.aws_request_id = current_request_id
            return True

    formatter = logging.Formatter(_FORMAT, _DATE_FORMAT)
    formatter.converter = time.gmtime
    handler = LambdaLogHandler()
    handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    logging.getLogger().addHandler(handler)
