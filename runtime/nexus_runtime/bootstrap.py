# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Loads the handler once, then serves invocations from the source until the node stops the sandbox."""

import importlib
import io
import json
import os
import sys

from nexus_runtime import errors, heap, logs
from nexus_runtime.context import LambdaContext
from nexus_runtime.sources import Invocation, InvocationSource

DEFAULT_TASK_ROOT = "/var/task"
DEFAULT_FRONTEND_DIR = "/opt/nexus/frontend"
# Lambda's limit on the response a runtime posts: 6 MiB and 100 bytes, the figure its Function.ResponseSizeTooLarge
# message names (the node's LambdaJson.MaxResponseBytes; a request's limit is 6 MiB).
MAX_RESPONSE_BYTES = 6 * 1024 * 1024 + 100


def main(environ=None, argv=None) -> int:
    """Runs the runtime; returns the process exit code (non-zero when the handler cannot be loaded).
    With ``--template`` (nexus mode only) it loads the handler once and forks instances on the node's request."""
    env = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else argv
    _unbuffer_stdio()
    logs.install()
    heap.keep_freed_heap()
    io_mode = env.get("NEXUS_IO", "baseline")
    if "--template" in argv:
        return _serve_template(io_mode, env)
    frontend = env.get("NEXUS_FRONTEND_DIR", DEFAULT_FRONTEND_DIR) if io_mode == "nexus" else None
    loaded = None
    if io_mode == "nexus":
        # The handler is loaded before the channel is opened: in a microVM, opening the region device is the ready point
        # a snapshot is taken at (its first ring), so every cold start restored from it skips the handler's imports.
        _put_first_on_path(frontend)
        loaded = _load(env, frontend)
    try:
        source = make_source(io_mode, env)
    except Exception as exc:  # a broken environment: say so in the function's log and stop
        sys.stderr.write(f"[ERROR] nexus_runtime: cannot start the {io_mode!r} invocation source: {exc}\n")
        return 2

    handler, init_error = loaded or _load(env, frontend)
    if init_error is not None:
        sys.stderr.write(errors.log_line(init_error.payload))
        flush_output(_console_fds())
        source.init_error(init_error.payload)
        return 1

    Runtime(handler, source, env).serve_forever()
    return 0


def _load(env, frontend):
    """(handler, None), or (None, the InitError) when it cannot be loaded."""
    try:
        return load_handler(env.get("_HANDLER", ""), env.get("LAMBDA_TASK_ROOT", DEFAULT_TASK_ROOT), after=frontend), None
    except errors.InitError as exc:
        return None, exc


def _put_first_on_path(directory):
    if directory not in sys.path:
        sys.path.insert(0, directory)


def _serve_template(io_mode: str, env) -> int:
    if io_mode != "nexus":
        sys.stderr.write(f"[ERROR] nexus_runtime: --template needs NEXUS_IO=nexus, got {io_mode!r}\n")
        return 2
    from nexus_runtime import template

    def load():
        frontend = env.get("NEXUS_FRONTEND_DIR", DEFAULT_FRONTEND_DIR)
        sys.path.insert(0, frontend)
        import nexus_runtime.channel_source  # noqa: F401  (loaded once here, shared by every instance)

        return load_handler(env.get("_HANDLER", ""), env.get("LAMBDA_TASK_ROOT", DEFAULT_TASK_ROOT), after=frontend)

    return template.serve(env, load)


def make_source(io_mode: str, env) -> InvocationSource:
    """The invocation source for NEXUS_IO, with the mode's import-path and endpoint set-up."""
    if io_mode == "nexus":
        # The stand-in boto3/botocore must win over anything else named boto3 (even a vendored copy in /var/task).
        _put_first_on_path(env.get("NEXUS_FRONTEND_DIR", DEFAULT_FRONTEND_DIR))
        from nexus_runtime.channel_source import ChannelSource  # only in nexus mode: imports nexus_channel

        return ChannelSource()
    if io_mode == "baseline":
        from nexus_runtime import endpoint

        endpoints = endpoint.from_environment(env)
        if endpoints:
            endpoint.install(endpoints)
        from nexus_runtime.runtime_api import RuntimeApiSource

        address = env.get("AWS_LAMBDA_RUNTIME_API")
        if not address:
            raise ValueError("AWS_LAMBDA_RUNTIME_API is not set")
        return RuntimeApiSource(address)
    raise ValueError(f"NEXUS_IO={io_mode!r}: expected 'baseline' or 'nexus'")


def load_handler(handler: str, task_root: str, after=None):
    """Imports the handler's module (once) from the task root and returns the function, as Lambda does.
    The task root goes first on sys.path, or right behind ``after`` (the frontend, in nexus mode)."""
    module_name, _, function_name = handler.rpartition(".")
    if not module_name or not function_name:
        raise errors.InitError("Runtime.MalformedHandlerName", f"Bad handler '{handler}': expected module.function")
    module_name = module_name.replace("/", ".")
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise errors.InitError("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module")

    if task_root not in sys.path:
        sys.path.insert(sys.path.index(after) + 1 if after in sys.path else 0, task_root)

    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise errors.InitError("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from exc
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise errors.InitError("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace) from exc
    except Exception as exc:
        payload = errors.from_exception(exc)
        raise errors.InitError(payload["errorType"], payload["errorMessage"], payload["stackTrace"]) from exc

    function = getattr(module, function_name, None)
    if not callable(function):
        raise errors.InitError("Runtime.HandlerNotFound", f"Handler '{function_name}' missing on module '{module_name}'")
    return function


class Runtime:
    """Runs invocations one at a time: decode the event, call the handler, post the result or the error."""

    def __init__(self, handler, source: InvocationSource, environ=None, idle=None):
        self._handler = handler
        self._source = source
        self._env = os.environ if environ is None else environ
        self._idle = idle if idle is not None else heap.IdleTrim(trim=self._give_back_memory)
        self._consoles = _console_fds()

    def serve_forever(self) -> None:
        # Started here, in each instance: a template's threads do not survive its fork.
        self._idle.start()
        while True:
            invocation = self._source.next()
            self._idle.begin()
            try:
                self.serve_one(invocation)
            finally:
                self._idle.end()

    def serve_one(self, invocation: Invocation) -> None:
        request_id = invocation.request_id
        try:
            event = json.loads(invocation.event) if invocation.event else {}
        except ValueError as exc:
            self._post_error(request_id, errors.make_error("Runtime.UnmarshalError", f"Unable to unmarshal input: {exc}", [], request_id))
            return

        try:
            client_context = json.loads(invocation.client_context) if invocation.client_context else None
        except ValueError as exc:
            self._post_error(request_id, errors.make_error("Runtime.UnmarshalError", f"Unable to unmarshal client context: {exc}", [], request_id))
            return

        logs.current_request_id = request_id
        # As Lambda does: tracing libraries (X-Ray SDK, Powertools) read the invocation's trace header from the environment.
        if invocation.trace_id:
            self._env["_X_AMZN_TRACE_ID"] = invocation.trace_id
        else:
            self._env.pop("_X_AMZN_TRACE_ID", None)
        context = LambdaContext(request_id, invocation.deadline_ms, invocation.invoked_function_arn, self._env,
                                client_context if isinstance(client_context, dict) else None)
        try:
            result = self._handler(event, context)
        except Exception as exc:
            self._post_error(request_id, errors.from_exception(exc, request_id))
            return

        try:
            body = to_json(result)
        except Exception as exc:  # any, as Lambda's marshaller: a RecursionError or OverflowError too
            self._post_error(request_id, errors.make_error("Runtime.MarshalError", f"Unable to marshal response: {exc}", [], request_id))
            return
        if len(body) > MAX_RESPONSE_BYTES:
            # Refused here rather than by the node's limit (which holds too): the node would cut the post off, and the
            # instance would die with it instead of serving its next invocation.
            self._post_error(request_id, errors.make_error(
                "Function.ResponseSizeTooLarge",
                f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size ({MAX_RESPONSE_BYTES} bytes).",
                [], request_id))
            return
        self._finished()
        self._source.post_response(request_id, body)

    def _post_error(self, request_id: str, error: dict) -> None:
        sys.stderr.write(errors.log_line(error))
        self._finished()
        self._source.post_error(request_id, error)

    def _give_back_memory(self) -> None:
        heap.malloc_trim()
        self._source.release_idle_memory()

    def _finished(self) -> None:
        # The invocation's work ends here, before its result is posted: a channel source's post also waits for the
        # next invocation (the host pushes it into the reply), and an instance waiting there is idle.
        self._idle.end()
        flush_output(self._consoles)


def to_json(result) -> bytes:
    """
    The body Lambda's Python runtime posts for the handler's result (awslambdaric's marshaller: simplejson with the
    default separators, ", " and ": ", and ASCII escapes on python3.11), so a caller comparing payloads byte for byte
    gets Lambda's bytes. A result that is `bytes` is the body as it is. Inside a result, bytes are their UTF-8 text and
    a Decimal is written with its own digits (Decimal("1.10") is 1.10, Decimal("1E+2") is 1E+2, Decimal("Infinity") is
    Infinity), a NaN one as NaN; a result holding neither takes the C encoder, as before.
    """
    if isinstance(result, bytes):
        return result
    try:
        return json.dumps(result, default=_plain_default, allow_nan=True).encode("utf-8")
    except (_HoldsLambdaTypes, TypeError):
        # A TypeError may be a bytes key, which the C encoder refuses before any default; for a key or value Lambda
        # refuses too, the slow path raises it again in simplejson's words.
        return "".join(_lambda_chunks(result, set())).encode("utf-8")


class _HoldsLambdaTypes(Exception):
    """The result holds a Decimal or bytes, which the standard encoder cannot write as Lambda does."""


def _plain_default(value):
    if isinstance(value, bytes) or (type(value).__module__ == "decimal" and type(value).__name__ == "Decimal"):
        raise _HoldsLambdaTypes()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float_text(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)


def _key_text(key) -> str:
    # simplejson's keys: the standard ones, and bytes as their UTF-8 text.
    if isinstance(key, str):
        return key
    if isinstance(key, bytes):
        return key.decode("utf-8")
    if isinstance(key, float):
        return _float_text(key)
    if key is True or key is False or key is None:
        return {True: "true", False: "false", None: "null"}[key]
    if isinstance(key, int):
        return int.__repr__(key)
    # simplejson's C encoder names the key's type as CPython does (tp_name): decimal.Decimal, but tuple and a class's own name.
    kind = type(key)
    named = kind.__name__ if kind.__module__ == "builtins" or kind.__flags__ & (1 << 9) else f"{kind.__module__}.{kind.__name__}"
    raise TypeError(f"keys must be str, int, float, bool or None, not {named}")


def _lambda_chunks(value, open_containers: set):
    """simplejson's output for the types Lambda's marshaller meets (the slow path: only a result with a Decimal or bytes)."""
    import decimal

    if isinstance(value, str):
        yield json.encoder.encode_basestring_ascii(value)
    elif isinstance(value, bytes):
        yield json.encoder.encode_basestring_ascii(value.decode("utf-8"))
    elif value is None or value is True or value is False:
        yield {None: "null", True: "true", False: "false"}[value]
    elif isinstance(value, int):
        yield int.__repr__(value)
    elif isinstance(value, float):
        yield _float_text(value)
    elif isinstance(value, decimal.Decimal):
        yield "NaN" if value.is_nan() else str(value)
    elif isinstance(value, (list, tuple, dict)):
        if id(value) in open_containers:
            raise ValueError("Circular reference detected")
        open_containers.add(id(value))
        if isinstance(value, dict):
            yield "{"
            for i, (key, item) in enumerate(value.items()):
                yield (", " if i else "") + json.encoder.encode_basestring_ascii(_key_text(key)) + ": "
                yield from _lambda_chunks(item, open_containers)
            yield "}"
        else:
            yield "["
            for i, item in enumerate(value):
                if i:
                    yield ", "
                yield from _lambda_chunks(item, open_containers)
            yield "]"
        open_containers.discard(id(value))
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def flush_output(consoles=()) -> None:
    """Puts everything the invocation printed on its way to the node before its result is posted: the node logs it
    before the invocation's END line (docs/node.md, "Function logs"). The runtime's own streams write through, but a
    handler may have put a buffered stream in sys.stdout or written to sys.__stdout__. A terminal (a microVM's serial
    console) takes a write into the guest kernel's buffer and sends it later: then tcdrain waits until it is sent. Asking
    first how much is queued (TIOCOUTQ: the kernel's buffer, no device access) spares the wait, which reads the UART (an
    exit to the VMM), on every call that printed nothing; the UART itself hands each byte to the VMM as it is written."""
    for stream in {id(s): s for s in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__) if s is not None}.values():
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass  # closed or not a stream: nothing of it can reach the node
    if consoles:
        import fcntl  # only on a terminal (a microVM's console)
        import termios

        for fd in consoles:
            try:
                if int.from_bytes(fcntl.ioctl(fd, termios.TIOCOUTQ, bytes(4)), sys.byteorder) > 0:
                    termios.tcdrain(fd)
            except (OSError, termios.error):
                pass


def _console_fds():
    """stdout and stderr when they are a terminal (a microVM's serial console), once per file."""
    seen, fds = set(), []
    for fd in (1, 2):
        try:
            if os.isatty(fd):
                stat = os.fstat(fd)
                if (stat.st_dev, stat.st_ino) not in seen:
                    seen.add((stat.st_dev, stat.st_ino))
                    fds.append(fd)
        except OSError:
            continue
    return fds


def _unbuffer_stdio() -> None:
    """Handler output reaches the container's stdout/stderr at once (the node collects it as the function's log)."""
    for name, fd in (("stdout", 1), ("stderr", 2)):
        stream = getattr(sys, name)
        try:
            raw = io.FileIO(fd, "w", closefd=False)
        except OSError:
            continue
        setattr(sys, name, io.TextIOWrapper(raw, encoding=getattr(stream, "encoding", None) or "utf-8",
                                            errors="backslashreplace", write_through=True))

