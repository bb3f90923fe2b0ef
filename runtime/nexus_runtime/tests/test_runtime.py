# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Runtime tests. Run: /usr/bin/python3 -m unittest discover -s runtime/nexus_runtime/tests"""

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

RUNTIME_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if RUNTIME_DIR not in sys.path:
    sys.path.insert(0, RUNTIME_DIR)

from nexus_runtime import bootstrap, errors  # noqa: E402
from nexus_runtime.context import LambdaContext  # noqa: E402
from nexus_runtime.sources import Invocation, InvocationSource  # noqa: E402
from nexus_runtime.tests.fake_runtime_api import FakeRuntimeApi  # noqa: E402

ENV = {
    "AWS_LAMBDA_FUNCTION_NAME": "fn",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "128",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
}


class FakeSource(InvocationSource):
    def __init__(self):
        self.responses = {}
        self.errors = {}

    def post_response(self, request_id, body):
        self.responses[request_id] = body

    def post_error(self, request_id, error):
        self.errors[request_id] = error


def invocation(request_id, event, deadline_in_ms=60000):
    body = event if isinstance(event, bytes) else json.dumps(event).encode()
    return Invocation(request_id, int(time.time() * 1000) + deadline_in_ms, "arn:aws:lambda:us-east-1:0:function:fn", body)


class TaskRoot:
    """A temporary /var/task with handler files."""

    def __init__(self, files):
        self._dir = tempfile.TemporaryDirectory()
        self.path = self._dir.name
        for name, text in files.items():
            path = os.path.join(self.path, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(textwrap.dedent(text))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._dir.cleanup()


class InProcessTests(unittest.TestCase):
    def serve(self, handler, event, request_id="r1"):
        source = FakeSource()
        with self.assertLogs_stderr():
            bootstrap.Runtime(handler, source, ENV).serve_one(invocation(request_id, event))
        return source

    def assertLogs_stderr(self):
        # The runtime logs errors to stderr (the function's log); keep test output clean.
        import contextlib
        import io
        return contextlib.redirect_stderr(io.StringIO())

    def test_output_a_handler_buffered_is_flushed_before_the_result_is_posted(self):
        # The node logs what reached it before the result: a handler's own buffered stdout (and the traceback on
        # stderr) must be flushed first. Without the runtime's flush_output the test failed (tried once).
        import contextlib
        import io

        class Recorder(FakeSource):
            def __init__(self, streams):
                super().__init__()
                self.streams, self.seen = streams, []

            def post_response(self, request_id, body):
                self.seen.append([s.buffer.raw.getvalue() for s in self.streams])

            post_error = post_response

        def buffered():
            return io.TextIOWrapper(io.BufferedWriter(io.BytesIO(), 1 << 16), encoding="utf-8")

        out, err = buffered(), buffered()
        source = Recorder([out, err])

        def handler(event, context):
            print("printed by the handler")
            if event.get("fail"):
                raise ValueError("boom")
            return {}

        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            runtime = bootstrap.Runtime(handler, source, ENV)
            runtime.serve_one(invocation("r1", {}))
            runtime.serve_one(invocation("r2", {"fail": True}))
        self.assertEqual(b"printed by the handler\n", source.seen[0][0])
        self.assertIn(b"printed by the handler\n" * 2, source.seen[1][0])
        self.assertIn(b"[ERROR] ValueError: boom\n", source.seen[1][1])

    def test_a_console_is_drained_only_when_output_is_queued(self):
        # A microVM's console (a terminal) sends later what it took: flush_output waits (tcdrain) when the kernel still
        # queues output for it, and spares the wait (a UART read, an exit to the VMM) when nothing is queued. Mocked: a
        # pty here queues nothing, and there is no microVM to run in.
        from unittest import mock

        for queued, drained in ((5, True), (0, False)):
            with mock.patch("fcntl.ioctl", return_value=queued.to_bytes(4, sys.byteorder)), mock.patch("termios.tcdrain") as tcdrain:
                bootstrap.flush_output([7])
            self.assertEqual([mock.call(7)] if drained else [], tcdrain.call_args_list)

    def test_a_result_is_spelled_as_lambdas_python_runtime_spells_it(self):
        # Lambda's python3.11 runtime: ", " and ": " between items, non-ASCII escaped. The result was compact before.
        source = self.serve(lambda event, context: {"statusCode": 200, "body": "\u00e9", "n": [1, 2.5, None]}, {})
        self.assertEqual(source.responses["r1"], b'{"statusCode": 200, "body": "\\u00e9", "n": [1, 2.5, null]}')

    def test_success_posts_the_json_result(self):
        source = self.serve(lambda event, context: {"echo": event["x"], "n": [1, 2.5, None]}, {"x": "é"})
        self.assertEqual(json.loads(source.responses["r1"]), {"echo": "é", "n": [1, 2.5, None]})
        self.assertEqual(source.errors, {})

    def test_handler_exception_becomes_a_lambda_error(self):
        with TaskRoot({"h.py": """
                def handler(event, context):
                    return helper()

                def helper():
                    raise ValueError("bad input: 42")
                """}) as root:
            fn = bootstrap.load_handler("h.handler", root.path)
            try:
                source = self.serve(fn, {})
            finally:
                sys.path.remove(root.path)
                sys.modules.pop("h", None)
        error = source.errors["r1"]
        self.assertEqual(error["errorType"], "ValueError")
        self.assertEqual(error["errorMessage"], "bad input: 42")
        self.assertEqual(error["requestId"], "r1")
        self.assertEqual(len(error["stackTrace"]), 2)
        self.assertIn("h.py", error["stackTrace"][0])
        self.assertIn("in handler", error["stackTrace"][0])
        self.assertIn('raise ValueError("bad input: 42")', error["stackTrace"][1])
        self.assertFalse(any("nexus_runtime" in line for line in error["stackTrace"]))

    def test_a_response_past_6_mib_is_an_error_and_the_instance_goes_on(self):
        # The node refuses a larger post (its own limit); refused here first, the instance serves its next invocation
        # instead of dying with a cut-off post (found by a new user's test, 2026-12-06).
        source = FakeSource()
        runtime = bootstrap.Runtime(lambda e, c: "x" * e["n"], source, ENV)
        with self.assertLogs_stderr():
            runtime.serve_one(invocation("big", {"n": bootstrap.MAX_RESPONSE_BYTES - 1}))
            runtime.serve_one(invocation("edge", {"n": bootstrap.MAX_RESPONSE_BYTES - 2}))
            runtime.serve_one(invocation("next", {"n": 1}))
        self.assertEqual(source.errors["big"]["errorType"], "Function.ResponseSizeTooLarge")
        self.assertEqual(source.errors["big"]["errorMessage"],
                         "Response payload size (6291557 bytes) exceeded maximum allowed payload size (6291556 bytes).")
        self.assertEqual(len(source.responses["edge"]), bootstrap.MAX_RESPONSE_BYTES)
        self.assertEqual(source.responses["next"], b'"x"')

    def test_non_serializable_result_is_a_marshal_error(self):
        source = self.serve(lambda e, c: {"s": {1, 2}}, {})
        self.assertEqual(source.errors["r1"]["errorType"], "Runtime.MarshalError")
        self.assertEqual(source.errors["r1"]["errorMessage"], "Unable to marshal response: Object of type set is not JSON serializable")
        self.assertEqual(source.responses, {})

    def test_decimal_results_are_written_with_their_own_digits_as_lambda_writes_them(self):
        # awslambdaric writes a Decimal as str(d) (simplejson RawJSON), a NaN one as NaN; before, 1.10 was 1.1, 1E+2 was
        # 100, 0.1000000000000000055511151231257827 lost its digits to a float, and Infinity was an uncaught OverflowError.
        from decimal import Decimal
        source = self.serve(lambda e, c: {"n": [Decimal("3"), Decimal("2.5"), Decimal("1.10"), Decimal("1E+2"), Decimal("-0"),
                                                Decimal("0.1000000000000000055511151231257827"), Decimal("Infinity"),
                                                Decimal("-Infinity"), Decimal("NaN"), Decimal("-sNaN")], "f": 1.5}, {})
        self.assertEqual(source.responses["r1"],
                         b'{"n": [3, 2.5, 1.10, 1E+2, -0, 0.1000000000000000055511151231257827, Infinity, -Infinity, NaN, NaN], "f": 1.5}')

    def test_a_bytes_result_is_the_body_as_it_is_and_bytes_inside_one_are_utf8_text(self):
        # awslambdaric posts a bytes result unchanged and its simplejson writes bytes inside a result as UTF-8 strings
        # (dict keys too); before, both were Runtime.MarshalError.
        source = self.serve(lambda e, c: b"\x89PNG\r\n\x00 not json", {})
        self.assertEqual(source.responses["r1"], b"\x89PNG\r\n\x00 not json")
        source = self.serve(lambda e, c: {b"k\xc3\xa9": [b"caf\xc3\xa9", ("t", None, True)]}, {})
        self.assertEqual(source.responses["r1"], b'{"k\\u00e9": ["caf\\u00e9", ["t", null, true]]}')
        source = self.serve(lambda e, c: {"b": b"\xff"}, {})
        self.assertEqual(source.errors["r1"]["errorType"], "Runtime.MarshalError")
        self.assertEqual(source.errors["r1"]["errorMessage"],
                         "Unable to marshal response: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte")

    def test_a_result_with_lambda_types_still_refuses_what_lambda_refuses(self):
        from decimal import Decimal
        looped = [Decimal("1")]
        looped.append(looped)
        for result, message in (({"d": Decimal("1"), "s": {1}}, "Object of type set is not JSON serializable"),
                                ({Decimal("1"): b"x"}, "keys must be str, int, float, bool or None, not decimal.Decimal"),
                                ({b"k": 1, (1, 2): 2}, "keys must be str, int, float, bool or None, not tuple"),
                                (looped, "Circular reference detected")):
            source = self.serve(lambda e, c: result, {})
            self.assertEqual(source.errors["r1"]["errorMessage"], "Unable to marshal response: " + message)

    def test_bad_event_json_is_an_unmarshal_error(self):
        source = self.serve(lambda e, c: "never", b"{not json")
        self.assertEqual(source.errors["r1"]["errorType"], "Runtime.UnmarshalError")

    def test_context_fields(self):
        seen = {}

        def handler(event, context):
            seen.update(vars(context))
            seen["remaining"] = context.get_remaining_time_in_millis()
            return None

        source = self.serve(handler, {}, request_id="req-7")
        self.assertEqual(source.responses["req-7"], b"null")
        self.assertEqual(seen["aws_request_id"], "req-7")
        self.assertEqual(seen["function_name"], "fn")
        self.assertEqual(seen["function_version"], "$LATEST")
        self.assertEqual(seen["memory_limit_in_mb"], "128")
        self.assertEqual(seen["invoked_function_arn"], "arn:aws:lambda:us-east-1:0:function:fn")
        self.assertEqual(seen["log_group_name"], "/aws/lambda/fn")
        self.assertTrue(0 < seen["remaining"] <= 60000, seen["remaining"])

    def test_client_context_identity_and_trace_are_lambdas(self):
        # What Lambda's Python runtime hands a handler: identity always an object (fields None without Cognito), the
        # client context as objects, its "w3c" only through w3c(), the trace header in _X_AMZN_TRACE_ID.
        env = dict(ENV)
        seen = {}

        def handler(event, context):
            cc = context.client_context
            seen.update(identity=(context.identity.cognito_identity_id, context.identity.cognito_identity_pool_id),
                        custom=cc and cc.custom, env=cc and cc.env, client=cc and cc.client and
                        (cc.client.app_title, cc.client.installation_id),
                        w3c=context.w3c(), trace=env.get("_X_AMZN_TRACE_ID"))
            return None

        sent = {"custom": {"tenant": "t-1"}, "env": {"locale": "en"}, "client": {"app_title": "app"},
                "w3c": {"traceparent": "00-abc-01", "baggage": 7, "other": "x"}}
        trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0"
        runtime = bootstrap.Runtime(handler, FakeSource(), env)
        runtime.serve_one(Invocation("r1", int(time.time() * 1000) + 60000, "arn", b"{}", trace, json.dumps(sent)))
        self.assertEqual(seen, {"identity": (None, None), "custom": {"tenant": "t-1"}, "env": {"locale": "en"},
                                "client": ("app", None), "w3c": {"traceparent": "00-abc-01"}, "trace": trace})

        # The next invocation has neither: no client context, and no trace header left over from the last one.
        runtime.serve_one(invocation("r2", {}))
        self.assertEqual((seen["identity"], seen["custom"], seen["client"], seen["w3c"], seen["trace"]), ((None, None), None, None, {}, None))

    def test_context_log_writes_the_text_as_given(self):
        import contextlib
        import io
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            self.serve(lambda e, c: c.log("one") or c.log(2), {})
        self.assertEqual(out.getvalue(), "one2")

    def test_remaining_time_never_negative(self):
        context = LambdaContext("r", int(time.time() * 1000) - 5000, "arn", ENV)
        self.assertEqual(context.get_remaining_time_in_millis(), 0)


class LoadHandlerTests(unittest.TestCase):
    def load(self, handler, files):
        with TaskRoot(files) as root:
            try:
                return bootstrap.load_handler(handler, root.path)
            finally:
                if root.path in sys.path:
                    sys.path.remove(root.path)
                for name in [m for m in sys.modules if m.startswith(("lh_", "pkg"))]:
                    del sys.modules[name]

    def assertInitError(self, handler, files, error_type, message):
        with self.assertRaises(errors.InitError) as raised:
            self.load(handler, files)
        self.assertEqual(raised.exception.payload["errorType"], error_type)
        self.assertEqual(raised.exception.payload["errorMessage"], message)

    def test_missing_module(self):
        self.assertInitError("lh_nothere.handler", {}, "Runtime.ImportModuleError",
                             "Unable to import module 'lh_nothere': No module named 'lh_nothere'")

    def test_module_importing_something_missing(self):
        self.assertInitError("lh_a.handler", {"lh_a.py": "import lh_not_installed\n"}, "Runtime.ImportModuleError",
                             "Unable to import module 'lh_a': No module named 'lh_not_installed'")

    def test_missing_function(self):
        self.assertInitError("lh_b.nope", {"lh_b.py": "def handler(e, c): pass\n"}, "Runtime.HandlerNotFound",
                             "Handler 'nope' missing on module 'lh_b'")

    def test_syntax_error(self):
        with self.assertRaises(errors.InitError) as raised:
            self.load("lh_c.handler", {"lh_c.py": "def handler(e, c):\n    return (\n"})
        self.assertEqual(raised.exception.payload["errorType"], "Runtime.UserCodeSyntaxError")

    def test_exception_at_import(self):
        with self.assertRaises(errors.InitError) as raised:
            self.load("lh_d.handler", {"lh_d.py": "raise RuntimeError('no config')\n"})
        self.assertEqual(raised.exception.payload["errorType"], "RuntimeError")
        self.assertEqual(raised.exception.payload["errorMessage"], "no config")

    def test_malformed_name(self):
        self.assertInitError("handler", {}, "Runtime.MalformedHandlerName", "Bad handler 'handler': expected module.function")

    def test_package_module(self):
        fn = self.load("pkg.mod.handler", {"pkg/__init__.py": "", "pkg/mod.py": "def handler(e, c): return 'pkg'\n"})
        self.assertEqual(fn({}, None), "pkg")


class ProcessTests(unittest.TestCase):
    """The runtime as the node starts it: python3 -m nexus_runtime against a Runtime API."""

    def setUp(self):
        self.api = FakeRuntimeApi()
        self.processes = []

    def tearDown(self):
        for process in self.processes:
            process.kill()
            process.wait()
            process.stdout.close()
            process.stderr.close()
        self.api.close()

    def start(self, root, handler="handler.handler", extra_env=None):
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": RUNTIME_DIR,
            "NEXUS_IO": "baseline",
            "_HANDLER": handler,
            "LAMBDA_TASK_ROOT": root,
            "AWS_LAMBDA_RUNTIME_API": self.api.address,
            **ENV,
            **(extra_env or {}),
        }
        process = subprocess.Popen([sys.executable, "-m", "nexus_runtime"], cwd=root, env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.processes.append(process)
        return process

    def test_serves_invocations_with_the_module_imported_once(self):
        with TaskRoot({"handler.py": """
                import os
                IMPORTS = int(os.environ.get("IMPORTS", "0")) + 1
                os.environ["IMPORTS"] = str(IMPORTS)
                CALLS = []

                def handler(event, context):
                    CALLS.append(event["n"])
                    print("hello from", context.aws_request_id)
                    return {"imports": IMPORTS, "calls": CALLS, "arn": context.invoked_function_arn}
                """}) as root:
            process = self.start(root.path)
            self.api.invoke("a", {"n": 1})
            self.api.invoke("b", {"n": 2})
            first = self.api.next_post()
            second = self.api.next_post()

            self.assertEqual(first[0], "/2018-06-01/runtime/invocation/a/response")
            self.assertEqual(second[0], "/2018-06-01/runtime/invocation/b/response")
            self.assertEqual(json.loads(first[2])["calls"], [1])
            result = json.loads(second[2])
            self.assertEqual(result["imports"], 1)
            self.assertEqual(result["calls"], [1, 2])
            self.assertEqual(result["arn"], "arn:aws:lambda:us-east-1:000000000000:function:fn")
            # One keep-alive connection for everything.
            self.assertEqual(len(self.api.client_ports), 1)
            # Unbuffered: the print is on stdout before the process ends.
            self.assertEqual(process.stdout.readline(), b"hello from a\n")

    def test_logging_is_set_up_as_lambdas_when_the_function_imports_it(self):
        # Lambda's root handler is there before the module runs: basicConfig is a no-op, the module's own level counts,
        # each record is one stdout line "[LEVEL]\t<UTC>Z\t<request id>\t<message>".
        with TaskRoot({"handler.py": """
                import logging
                logging.basicConfig(level=logging.DEBUG, format="%(message)s")
                logger = logging.getLogger()
                logger.setLevel(logging.INFO)

                def handler(event, context):
                    logger.debug("hidden %s", event["n"])
                    logging.getLogger("app.part").info("shown %s", event["n"])
                    print("end")  # so a missing log line fails the test instead of blocking its read
                    return len(logger.handlers)
                """}) as root:
            process = self.start(root.path)
            self.api.invoke("req-a", {"n": 1})
            self.assertEqual(json.loads(self.api.next_post()[2]), 1)
            line = process.stdout.readline().decode()
            self.assertRegex(line, r"^\[INFO\]\t\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\treq-a\tshown 1\n$")
            stamp = time.strptime(line.split("\t")[1][:19], "%Y-%m-%dT%H:%M:%S")
            self.assertLess(abs(time.mktime(stamp) - time.mktime(time.gmtime())), 120)  # UTC, not local time

    def test_logging_is_not_loaded_for_a_function_that_does_not_import_it(self):
        with TaskRoot({"handler.py": """
                import sys

                def handler(event, context):
                    loaded = "logging" in sys.modules
                    import logging
                    logging.getLogger("x").warning("at %s", context.aws_request_id)
                    print("end")
                    return loaded
                """}) as root:
            process = self.start(root.path)
            self.api.invoke("req-b", {})
            self.assertEqual(json.loads(self.api.next_post()[2]), False)
            # Imported late, it is set up all the same (the root level is Python's default, WARNING, as on Lambda).
            self.assertRegex(process.stdout.readline().decode(), r"^\[WARNING\]\t\S+Z\treq-b\tat req-b\n$")

    def test_the_json_log_format_writes_each_record_as_lambdas_json_and_filters_by_the_application_level(self):
        with TaskRoot({"handler.py": """
                import logging
                logger = logging.getLogger("app")

                def handler(event, context):
                    logger.debug("below the level")
                    logger.info("shown %s", event["n"], extra={"orderId": "o-1"})
                    try:
                        {}["missing"]
                    except KeyError:
                        logger.exception("failed")
                    print("plain print")
                    raise ValueError("bad input")
                """}) as root:
            process = self.start(root.path, extra_env={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "INFO"})
            self.api.invoke("req-j", {"n": 1})
            self.api.next_post()
            info = json.loads(process.stdout.readline())
            self.assertEqual({k: info[k] for k in ("level", "message", "logger", "requestId", "orderId")},
                             {"level": "INFO", "message": "shown 1", "logger": "app", "requestId": "req-j", "orderId": "o-1"})
            self.assertRegex(info["timestamp"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertNotIn("stackTrace", info)
            error = json.loads(process.stdout.readline())
            self.assertEqual((error["level"], error["message"], error["errorType"], error["errorMessage"]),
                             ("ERROR", "failed", "KeyError", "'missing'"))
            self.assertTrue(error["location"].endswith("handler.py:handler:11"), error["location"])
            self.assertIn("{}[\"missing\"]", "".join(error["stackTrace"]))
            # print() stays text, as on Lambda; the handler's error is one JSON record.
            self.assertEqual(process.stdout.readline().decode(), "plain print\n")
            failure = json.loads(process.stderr.readline())
            self.assertEqual((failure["level"], failure["errorType"], failure["errorMessage"], failure["requestId"]),
                             ("ERROR", "ValueError", "bad input", "req-j"))

    def test_the_application_log_level_trace_is_debug(self):
        with TaskRoot({"handler.py": """
                import logging

                def handler(event, context):
                    logging.getLogger().debug("detail")
                    return logging.getLogger().level
                """}) as root:
            process = self.start(root.path, extra_env={"AWS_LAMBDA_LOG_FORMAT": "JSON", "AWS_LAMBDA_LOG_LEVEL": "TRACE"})
            self.api.invoke("req-t", {})
            self.assertEqual(json.loads(self.api.next_post()[2]), 10)
            self.assertEqual(json.loads(process.stdout.readline())["message"], "detail")

    def test_handler_error_is_posted_with_its_type(self):
        with TaskRoot({"handler.py": "def handler(event, context):\n    raise KeyError('k')\n"}) as root:
            process = self.start(root.path)
            self.api.invoke("e1", {})
            path, headers, body = self.api.next_post()
            self.assertEqual(path, "/2018-06-01/runtime/invocation/e1/error")
            self.assertEqual(headers["Lambda-Runtime-Function-Error-Type"], "KeyError")
            error = json.loads(body)
            self.assertEqual((error["errorType"], error["errorMessage"], error["requestId"]), ("KeyError", "'k'", "e1"))
            self.assertIn("[ERROR] KeyError: 'k'", process.stderr.readline().decode())

    def test_import_failure_goes_to_init_error_and_exits_non_zero(self):
        with TaskRoot({"handler.py": "import not_installed_anywhere\n"}) as root:
            process = self.start(root.path)
            path, _, body = self.api.next_post()
            self.assertEqual(path, "/2018-06-01/runtime/init/error")
            self.assertEqual(json.loads(body)["errorType"], "Runtime.ImportModuleError")
            self.assertEqual(process.wait(timeout=60), 1)

    def test_nexus_mode_loads_the_handler_before_it_opens_the_channel(self):
        # In a microVM, opening the region device is the ready point its snapshot is taken at: the imports come first.
        with TaskRoot({"handler.py": "import sys\nsys.stderr.write('handler imported\\n')\ndef handler(e, c): pass\n"}) as root:
            process = self.start(root.path, extra_env={
                "NEXUS_IO": "nexus",
                "NEXUS_CHANNEL_DEVICE": os.path.join(root.path, "no-region-device"),
                "NEXUS_FRONTEND_DIR": os.path.join(RUNTIME_DIR, "frontend"),
                "PYTHONPATH": os.pathsep.join([RUNTIME_DIR, os.path.join(RUNTIME_DIR, "nexus_channel")]),
            })
            self.assertEqual(process.wait(timeout=60), 2)
            stderr = process.stderr.read().decode()
            self.assertIn("handler imported\n", stderr)
            self.assertLess(stderr.index("handler imported"), stderr.index("cannot open the Nexus region device"))

    def test_bad_io_mode_exits_with_a_message(self):
        with TaskRoot({"handler.py": "def handler(e, c): pass\n"}) as root:
            process = self.start(root.path, extra_env={"NEXUS_IO": "carrier-pigeon"})
            self.assertEqual(process.wait(timeout=60), 2)
            self.assertIn(b"'carrier-pigeon'", process.stderr.read())

    def test_boto3_is_not_imported_unless_the_handler_does(self):
        with TaskRoot({"handler.py": "import sys\ndef handler(e, c):\n    return sorted(m for m in ('boto3', 'botocore', 'urllib3') if m in sys.modules)\n"}) as root:
            self.start(root.path, extra_env={"NEXUS_S3_ENDPOINT": "http://10.77.0.1:9780"})
            self.api.invoke("m", {})
            self.assertEqual(json.loads(self.api.next_post()[2]), [])

    @unittest.skipUnless(os.path.exists("/usr/lib/python3/dist-packages/boto3/__init__.py"), "needs Debian python3-boto3")
    def test_baseline_clients_default_to_the_endpoints_the_node_hands_over(self):
        with TaskRoot({"handler.py": """
                import boto3

                def handler(event, context):
                    seen = []
                    s3 = boto3.client("s3")
                    def capture(request, **kwargs):
                        seen.append(request.url)
                        raise RuntimeError("stop before sending")
                    s3.meta.events.register("before-send", capture)
                    try:
                        s3.get_object(Bucket="nexus-examples", Key="hello-s3/input.txt")
                    except RuntimeError:
                        pass
                    return {
                        "client": s3.meta.endpoint_url,
                        "resource": boto3.resource("s3").meta.client.meta.endpoint_url,
                        "explicit": boto3.client("s3", endpoint_url="http://127.0.0.1:1").meta.endpoint_url,
                        "other_service": boto3.client("sqs").meta.endpoint_url,
                        "lambda": boto3.client("lambda").meta.endpoint_url,
                        "dashed": boto3.client("cognito-idp").meta.endpoint_url,
                        "url": seen[0],
                    }
                """}) as root:
            self.start(root.path, extra_env={
                "NEXUS_S3_ENDPOINT": "http://10.77.0.1:9780", "NEXUS_LAMBDA_ENDPOINT": "http://10.77.0.1:9702",
                "NEXUS_COGNITO_IDP_ENDPOINT": "http://10.77.0.1:9702", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret", "PYTHONPATH": RUNTIME_DIR + ":/usr/lib/python3/dist-packages"})
            self.api.invoke("s", {})
            path, _, body = self.api.next_post()
            self.assertEqual(path, "/2018-06-01/runtime/invocation/s/response", body)
            result = json.loads(body)
            self.assertEqual(result["client"], "http://10.77.0.1:9780")
            self.assertEqual(result["resource"], "http://10.77.0.1:9780")
            self.assertEqual(result["explicit"], "http://127.0.0.1:1")
            self.assertNotIn("10.77.0.1", result["other_service"])
            # Every service the node hands over gets its endpoint (the signing proxy's), '_' read back as '-'.
            self.assertEqual((result["lambda"], result["dashed"]), ("http://10.77.0.1:9702", "http://10.77.0.1:9702"))
            # Path-style addressing on an IP endpoint: the bucket is in the path, not the host name.
            self.assertEqual(result["url"], "http://10.77.0.1:9780/nexus-examples/hello-s3/input.txt")


class NexusModeTests(unittest.TestCase):
    """NEXUS_IO=nexus: invocations from nexus_channel, the stand-in boto3 first on sys.path."""

    def test_frontend_first_and_channel_source(self):
        with TaskRoot({
            "task/handler.py": "import boto3\ndef handler(event, context):\n    return {'boto3': boto3.WHICH, 'event': event, 'arn': context.invoked_function_arn}\n",
            "task/boto3/__init__.py": "WHICH = 'vendored in the task'\n",
            "frontend/boto3/__init__.py": "WHICH = 'frontend'\n",
            "channel/nexus_channel/__init__.py": """
                import json, os
                class Invocation:
                    def __init__(self, request_id, deadline_ms, function_arn, event):
                        self.request_id, self.deadline_ms, self.function_arn, self.event = request_id, deadline_ms, function_arn, event
                class InvocationSource:
                    def __init__(self):
                        self._given = False
                    def next(self):
                        if self._given:
                            raise SystemExit(0)
                        self._given = True
                        return Invocation("n1", 0, "arn:nexus", memoryview(b'{"k": 1}'))
                    def post_response(self, request_id, payload):
                        with open(os.environ["OUT"], "w") as f:
                            json.dump({"id": request_id, "body": json.loads(payload)}, f)
                    def post_error(self, request_id, error):
                        self.post_response(request_id, json.dumps(error).encode())
                    def init_error(self, error):
                        self.post_response("init", json.dumps(error).encode())
                """,
        }) as root:
            out = os.path.join(root.path, "out.json")
            env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": RUNTIME_DIR + ":" + os.path.join(root.path, "channel"),
                   "NEXUS_IO": "nexus", "_HANDLER": "handler.handler", "LAMBDA_TASK_ROOT": os.path.join(root.path, "task"),
                   "NEXUS_FRONTEND_DIR": os.path.join(root.path, "frontend"), "OUT": out, **ENV}
            done = subprocess.run([sys.executable, "-m", "nexus_runtime"], env=env, capture_output=True, timeout=60)
            self.assertEqual(done.returncode, 0, done.stderr)
            with open(out) as f:
                result = json.load(f)
            self.assertEqual(result, {"id": "n1", "body": {"boto3": "frontend", "event": {"k": 1}, "arn": "arn:nexus"}})


if __name__ == "__main__":
    unittest.main()
