# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Baseline source: the AWS Lambda Runtime API over HTTP/1.1 (one keep-alive connection)."""

import http.client
import json

from nexus_runtime.sources import Invocation, InvocationSource

_PREFIX = "/2018-06-01/runtime"


class RuntimeApiError(Exception):
    """The Runtime API answered something the contract does not allow."""


class RuntimeApiSource(InvocationSource):
    """Talks to the node's Runtime API at ``host:port`` (AWS_LAMBDA_RUNTIME_API)."""

    def __init__(self, address: str):
        host, sep, port = address.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"AWS_LAMBDA_RUNTIME_API={address!r} is not host:port")
        self._host = host
        self._port = int(port)
        self._conn = None

    def next(self) -> Invocation:
        status, headers, body = self._request("GET", f"{_PREFIX}/invocation/next", None, {})
        if status != 200:
            raise RuntimeApiError(f"GET invocation/next answered {status}: {body[:200]!r}")
        request_id = headers.get("lambda-runtime-aws-request-id")
        if not request_id:
            raise RuntimeApiError("GET invocation/next answered without Lambda-Runtime-Aws-Request-Id")
        try:
            deadline_ms = int(headers.get("lambda-runtime-deadline-ms", "0"))
        except ValueError:
            raise RuntimeApiError("Lambda-Runtime-Deadline-Ms is not an integer") from None
        return Invocation(request_id, deadline_ms, headers.get("lambda-runtime-invoked-function-arn", ""), body,
                          headers.get("lambda-runtime-trace-id"), headers.get("lambda-runtime-client-context"))

    def post_response(self, request_id: str, body: bytes) -> None:
        self._post(f"{_PREFIX}/invocation/{request_id}/response", body, {"Content-Type": "application/json"})

    def post_error(self, request_id: str, error: dict) -> None:
        self._post(f"{_PREFIX}/invocation/{request_id}/error", _error_body(error), _error_headers(error))

    def init_error(self, error: dict) -> None:
        self._post(f"{_PREFIX}/init/error", _error_body(error), _error_headers(error))

    def _post(self, path: str, body: bytes, headers: dict) -> None:
        status, _, answer = self._request("POST", path, body, headers)
        if status != 202:
            raise RuntimeApiError(f"POST {path} answered {status}: {answer[:200]!r}")

    def _request(self, method: str, path: str, body, headers: dict):
        # One retry on a fresh connection: the node may have closed an idle keep-alive connection.
        for attempt in (1, 2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self._host, self._port)
            try:
                self._conn.request(method, path, body=body, headers=headers)
                response = self._conn.getresponse()
                data = response.read()
                return response.status, {k.lower(): v for k, v in response.getheaders()}, data
            except (ConnectionError, http.client.HTTPException):
                self._conn.close()
                self._conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def _error_body(error: dict) -> bytes:
    return json.dumps(error).encode("utf-8")


def _error_headers(error: dict) -> dict:
    return {
        "Content-Type": "application/json",
        "Lambda-Runtime-Function-Error-Type": str(error.get("errorType", "Unhandled")),
    }
