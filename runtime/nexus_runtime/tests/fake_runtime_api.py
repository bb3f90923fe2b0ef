# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""A tiny Lambda Runtime API server for tests: hands out queued events and records what the runtime posts."""

import http.server
import json
import queue
import threading
import time


class FakeRuntimeApi:
    def __init__(self):
        self.events = queue.Queue()
        self.posts = queue.Queue()
        self.client_ports = set()
        api = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                api.client_ports.add(self.client_address[1])
                if self.path != "/2018-06-01/runtime/invocation/next":
                    self._answer(404, b"{}")
                    return
                request_id, event, deadline_ms = api.events.get()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Lambda-Runtime-Aws-Request-Id", request_id)
                self.send_header("Lambda-Runtime-Deadline-Ms", str(deadline_ms))
                self.send_header("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:us-east-1:000000000000:function:fn")
                self.send_header("Content-Length", str(len(event)))
                self.end_headers()
                self.wfile.write(event)

            def do_POST(self):
                api.client_ports.add(self.client_address[1])
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                api.posts.put((self.path, dict(self.headers), body))
                self._answer(202, b'{"status":"OK"}')

            def _answer(self, status, body):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        class Server(http.server.ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request, client_address):
                # A runtime killed while it long-polls "next" resets its connection: expected at the end of a test.
                pass

        self._server = Server(("127.0.0.1", 0), Handler)
        self.address = "127.0.0.1:%d" % self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def invoke(self, request_id, event, deadline_in_ms=60000):
        body = event if isinstance(event, bytes) else json.dumps(event).encode()
        self.events.put((request_id, body, int(time.time() * 1000) + deadline_in_ms))

    def next_post(self, timeout=60):
        return self.posts.get(timeout=timeout)

    def close(self):
        self._server.shutdown()
        self._server.server_close()
