# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Python's ``logging`` as Lambda's runtime sets it up: one handler on the root logger, before the handler's module
runs, that writes each record to stdout as ``[LEVEL]\\t<UTC time>Z\\t<request id>\\t<message>``. So the usual
``logger = logging.getLogger(); logger.setLevel(logging.INFO); logger.info(...)`` is logged, and a module-level
``logging.basicConfig(...)`` does nothing, as on Lambda.

With Lambda's JSON log format (the function's ``logging: format: JSON``; the node sets ``AWS_LAMBDA_LOG_FORMAT=JSON``
and ``AWS_LAMBDA_LOG_LEVEL``), each record is one JSON object per line instead, with the fields Lambda's Python
runtime writes (timestamp, level, message, logger, requestId; errorType, errorMessage, stackTrace and location when
the record carries an exception; the record's ``extra`` fields), and the root logger's level is the application log
level (TRACE is DEBUG).

A function that never imports ``logging`` does not pay for it (10 modules, ~1 MB beside the runtime's own): the
set-up runs the moment the function first imports it (``install``)."""

import os
import sys
import time

from nexus_runtime import on_import

_FORMAT = "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n"
_DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"

# The invocation running now ("" before the first): every record carries it, as Lambda's records do.
current_request_id = ""

# LogRecord attributes that are not a record's own extra fields (the JSON format writes those as fields of their own).
_RECORD_ATTRIBUTES = frozenset((
    "name", "msg", "args", "levelname", "levelno", "pathname", "filename", "module", "exc_info", "exc_text",
    "stack_info", "lineno", "funcName", "created", "msecs", "relativeCreated", "thread", "threadName", "processName",
    "process", "taskName", "message", "asctime", "aws_request_id"))


def json_format() -> bool:
    """Whether the function's log format is JSON (Lambda's AWS_LAMBDA_LOG_FORMAT)."""
    return os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON"


def json_record(logging, record) -> str:
    """One record as Lambda's JSON log format writes it: one line, fields without a value left out."""
    import json

    level = min(50, max(0, record.levelno)) // 10 * 10
    created = time.gmtime(record.created)
    fields = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", created) + ".%03dZ" % int(record.msecs),
        "level": logging.getLevelName(level),
        "message": record.getMessage(),
        "logger": record.name,
        "requestId": getattr(record, "aws_request_id", None),
    }
    if record.exc_info and record.exc_info[0] is not None:
        import traceback

        kind, value, trace = record.exc_info
        fields.update(stackTrace=traceback.format_tb(trace), errorType=kind.__name__, errorMessage=str(value),
                      location=f"{record.pathname}:{record.funcName}:{record.lineno}")
    for name, value in record.__dict__.items():
        if name not in _RECORD_ATTRIBUTES and name not in fields:
            fields[name] = value
    return json.dumps({k: v for k, v in fields.items() if v is not None}, ensure_ascii=False, default=str) + "\n"


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

    class JsonFormatter(logging.Formatter):
        def format(self, record):
            return json_record(logging, record)

    handler = LambdaLogHandler()
    root = logging.getLogger()
    if json_format():
        handler.setFormatter(JsonFormatter())
        level = os.environ.get("AWS_LAMBDA_LOG_LEVEL", "").upper()
        level = "DEBUG" if level == "TRACE" else level
        if level in logging.getLevelNamesMapping():
            root.setLevel(level)
    else:
        formatter = logging.Formatter(_FORMAT, _DATE_FORMAT)
        formatter.converter = time.gmtime
        handler.setFormatter(formatter)
    handler.addFilter(RequestIdFilter())
    root.addHandler(handler)
