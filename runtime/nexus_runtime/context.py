# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""The ``context`` object handed to the handler, with AWS Lambda's Python fields."""

import os
import sys
import time

# The W3C trace-context fields a caller's client context may carry under "w3c" that ``context.w3c()`` returns.
_W3C_FIELDS = ("traceparent", "tracestate", "baggage")


class LambdaContext:
    """Per-invocation context. Field names and types follow AWS Lambda's Python runtime: memory_limit_in_mb is the
    environment's string, ``identity`` is always a CognitoIdentity (its fields None: no Cognito here), and
    ``client_context`` is None unless the caller sent one (Invoke's ClientContext, synchronous invocations only)."""

    def __init__(self, request_id: str, deadline_ms: int, invoked_function_arn: str, environ=None, client_context=None):
        env = os.environ if environ is None else environ
        self.aws_request_id = request_id
        self.invoked_function_arn = invoked_function_arn
        self.function_name = env.get("AWS_LAMBDA_FUNCTION_NAME", "")
        self.function_version = env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.memory_limit_in_mb = env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "")
        self.log_group_name = env.get("AWS_LAMBDA_LOG_GROUP_NAME") or "/aws/lambda/" + self.function_name
        self.log_stream_name = env.get("AWS_LAMBDA_LOG_STREAM_NAME") or "nexus/" + self.function_name
        self.tenant_id = None
        self.identity = CognitoIdentity()
        self._w3c = _take_w3c(client_context)
        self.client_context = ClientContext.from_json(client_context)
        self._deadline_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))

    def w3c(self) -> dict:
        """The W3C trace context (traceparent, tracestate, baggage) the caller's client context carried, if any."""
        return dict(self._w3c)

    def log(self, message) -> None:
        """Writes to the function's log as Lambda's context.log does: the text as given, no newline added."""
        sys.stdout.write(str(message))

    def __repr__(self) -> str:
        return (f"LambdaContext(aws_request_id={self.aws_request_id!r}, function_name={self.function_name!r}, "
                f"function_version={self.function_version!r}, invoked_function_arn={self.invoked_function_arn!r}, "
                f"client_context={self.client_context!r}, identity={self.identity!r})")


class CognitoIdentity:
    """The Amazon Cognito identity that authorized the call: never one here, so both fields are None."""

    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self):
        self.cognito_identity_id = None
        self.cognito_identity_pool_id = None

    def __repr__(self) -> str:
        return f"CognitoIdentity(cognito_identity_id={self.cognito_identity_id!r}, cognito_identity_pool_id={self.cognito_identity_pool_id!r})"


class Client:
    """The calling mobile app, from the client context's "client" object (a field it lacks is None)."""

    __slots__ = ("installation_id", "app_title", "app_version_name", "app_version_code", "app_package_name")

    def __repr__(self) -> str:
        return "Client(" + ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__) + ")"


class ClientContext:
    """The caller's client context: ``custom`` and ``env`` as sent (dicts, or None), ``client`` a Client."""

    __slots__ = ("custom", "env", "client")

    def __repr__(self) -> str:
        return f"ClientContext(custom={self.custom!r}, env={self.env!r}, client={self.client!r})"

    @classmethod
    def from_json(cls, values):
        if values is None:
            return None
        context = _fill(cls(), values)
        if isinstance(context.client, dict):
            context.client = _fill(Client(), context.client)
        return context


def _fill(obj, values: dict):
    for name in obj.__slots__:
        setattr(obj, name, values.get(name))
    return obj


def _take_w3c(client_context) -> dict:
    """Removes "w3c" from the client context (Lambda hands it only through ``w3c()``): its string fields, allowlisted."""
    if not isinstance(client_context, dict):
        return {}
    raw = client_context.pop("w3c", None)
    if not isinstance(raw, dict):
        return {}
    return {name: raw[name] for name in _W3C_FIELDS if isinstance(raw.get(name), str)}
