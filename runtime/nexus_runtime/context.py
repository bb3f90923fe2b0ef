# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The ``context`` object handed to the handler, with AWS Lambda's Python fields."""

import os
import time


class LambdaContext:
    """Per-invocation context. Field names and types follow AWS Lambda's Python runtime
    (memory_limit_in_mb is the environment's string there too)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str, environ=None):
        env = os.environ if environ is None else environ
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME") or "/aws/lambda/" + self.function_name
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME") or "nexus/" + self.function_name
        self.identity = None
        self.client_context = None
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def __repr__(self) -> str:
        return (f"LambdaContext(aws_request_id={self.aws_request_id!r}, function_name={self.function_name!r}, "
                f"function_version={self.function_version!r}, invoked_function_arn={self.invoked_function_arn!r})")
