# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Lambda-shaped error payloads: {"errorMessage", "errorType", "stackTrace", "requestId"}."""

import os

_RUNTIME_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class InitError(Exception):
    """The handler could not be loaded; ``payload`` is what init/error receives."""

    def __init__(self, error_type: str, message: str, stack_trace=None):
        super().__init__(message)
        self.payload = make_error(error_type, message, stack_trace or [])


def make_error(error_type: str, message: str, stack_trace, request_id: str = "") -> dict:
    return {"errorMessage": message, "errorType": error_type, "requestId": request_id, "stackTrace": list(stack_trace)}


def from_exception(exc: BaseException, request_id: str = "") -> dict:
    """The payload Lambda makes for an exception the handler raised: the runtime's own frames are left out."""
    import traceback  # only on the error path: it costs a few ms of every cold start otherwise

    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename.startswith(_RUNTIME_DIR):
        frames.pop(0)
    return make_error(type(exc).__name__, str(exc), traceback.format_list(frames), request_id)


def log_line(error: dict) -> str:
    """The text written to the function's log for an error, as Lambda does: "[ERROR] Type: message" + trace; with the
    JSON log format, one JSON object (timestamp, level ERROR, then the error's own fields)."""
    from nexus_runtime import logs

    if logs.json_format():
        import json
        import time

        record = {"timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime()), "level": "ERROR", **error}
        return json.dumps(record, ensure_ascii=False) + "\n"
    trace = "".join(error.get("stackTrace") or [])
    head = f"[ERROR] {error['errorType']}: {error['errorMessage']}"
    return head + ("\nTraceback (most recent call last):\n" + trace if trace else "") + "\n"
