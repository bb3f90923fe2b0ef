# Copyright (c) Nexus contributors.
# Licensed under the MIT license.
"""Fork template: a sandbox that has loaded the runtime and the handler once and forks ready instances on request.

The node talks to the template over a SOCK_SEQPACKET socket at fd 3 (NEXUS_TEMPLATE_FD). Messages are JSON:
  node -> template: {"id": n, "env": {...}, "root": path or null} with five descriptors attached (SCM_RIGHTS): the
                    instance's channel region, its two doorbells, and the write ends of its stdout and stderr; root is
                    the root of its own the instance enters (its own /tmp: instance_root.py), built by the node.
  template -> node: {"ready": true, "roots": bool} once the handler is loaded (roots: it can chroot its instances into
                    roots of their own), or {"init_error": {...}} (then it exits);
                    {"id": n, "pid": p} after each fork (p in the template's pid namespace);
                    {"exit": p, "code": c, "signal": s} when an instance ends (the template is its parent and reaps it).
An instance is a fork of this process: it puts the descriptors at fd 3, 4, 5 (channel) and 1, 2 (output), takes its
environment, and serves invocations exactly as a freshly started runtime would, minus the start-up.
"""

import array
import gc
import json
import os
import selectors
import signal
import socket
import sys

from nexus_runtime import errors, instance_root

CONTROL_FD = 3
_FDS_PER_INSTANCE = 5
_MAX_MESSAGE = 64 * 1024


def serve(env, load) -> int:
    """Loads the handler (``load()``), reports readiness and forks instances until the node closes the socket."""
    control = socket.socket(fileno=int(env.get("NEXUS_TEMPLATE_FD", CONTROL_FD)))
    try:
        handler = load()
    except errors.InitError as exc:
        sys.stderr.write(errors.log_line(exc.payload))
        _send(control, {"init_error": exc.payload})
        return 1

    wake_read, wake_write = socket.socketpair()
    wake_read.setblocking(False)
    wake_write.setblocking(False)
    signal.set_wakeup_fd(wake_write.fileno())
    signal.signal(signal.SIGCHLD, lambda *_: None)
    selector = selectors.DefaultSelector()
    selector.register(control, selectors.EVENT_READ, "control")
    selector.register(wake_read, selectors.EVENT_READ, "children")
    _send(control, {"ready": True, "roots": instance_root.can_enter()})

    while True:
        for key, _ in selector.select():
            if key.data == "children":
                try:
                    while wake_read.recv(512):
                        pass
                except BlockingIOError:
                    pass
                _reap(control)
                continue

            try:
                data, fds = _receive(control)
            except ConnectionError:
                return 0
            if not data:
                return 0  # the node closed the socket: the template's work is done
            request = json.loads(data)
            if len(fds) != _FDS_PER_INSTANCE:
                for fd in fds:
                    os.close(fd)
                sys.stderr.write(f"[ERROR] nexus template: fork request {request.get('id')} carried {len(fds)} descriptors, expected {_FDS_PER_INSTANCE}\n")
                continue
            pid = fork_sharing_objects()
            if pid == 0:
                _become_instance(handler, request, fds, (control, wake_read, wake_write), selector)
            for fd in fds:
                os.close(fd)
            _send(control, {"id": request.get("id"), "pid": pid})


def fork_sharing_objects() -> int:
    """os.fork(), with every object the template holds moved out of the collector's reach first (gc.freeze): an
    instance's collections would otherwise write the header of each of them and so copy every page of the template's
    heap into the instance, one page fault at a time."""
    gc.freeze()
    return os.fork()


def _become_instance(handler, request, fds, template_sockets, selector) -> None:
    """In the forked child: enter the instance's root, take its descriptors and environment, then serve invocations.
    Never returns."""
    code = 1
    try:
        root = request.get("root")
        if root is not None:
            instance_root.enter(root)  # first: nothing of the function's runs before its /tmp is its own
        instance_env = request.get("env") or {}
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        selector.close()
        for s in template_sockets:
            s.close()
        # The control socket was the template's business: the instance keeps no socket module, as a fresh one would not.
        for name in ("selectors", "socket", "_socket"):
            sys.modules.pop(name, None)
        # Move the received descriptors out of the way first: they may sit on the very numbers they go to.
        high = [os.dup2(fd, 100 + i, inheritable=False) for i, fd in enumerate(fds)]
        for fd in fds:
            os.close(fd)
        for target, fd in zip((3, 4, 5, 1, 2), high):
            os.dup2(fd, target, inheritable=target in (1, 2))
            os.close(fd)
        os.environ.update({str(k): str(v) for k, v in instance_env.items()})
        _forget_inherited_connections()

        from nexus_runtime.bootstrap import Runtime, _unbuffer_stdio
        from nexus_runtime.channel_source import ChannelSource

        _unbuffer_stdio()
        Runtime(handler, ChannelSource(), os.environ).serve_forever()
        code = 0
    except SystemExit as exc:  # sys.exit() in the function: the status a Python process exits with, as a fresh one
        code = _exit_status(exc)
    except BaseException as exc:  # the instance's own failure: say so on its stderr and end it
        try:
            sys.stderr.write(f"[ERROR] nexus instance: {type(exc).__name__}: {exc}\n")
        except Exception:
            pass
    finally:
        os._exit(code)


def _exit_status(exc: SystemExit) -> int:
    """What Python's own exit makes of a SystemExit: None is 0, an int is itself, anything else is printed and 1."""
    if exc.code is None:
        return 0
    if isinstance(exc.code, int):
        return exc.code & 0xFF
    try:
        sys.stderr.write(f"{exc.code}\n")
    except Exception:
        pass
    return 1


def _forget_inherited_connections() -> None:
    """The template never connects a channel, but code run at import might have: an instance starts without one."""
    channel = sys.modules.get("nexus_channel")
    if channel is not None and hasattr(channel, "_default"):
        channel._default = None
    client = sys.modules.get("botocore.client")
    if client is not None and hasattr(client, "_transport"):
        client._transport = None


def _reap(control) -> None:
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else None
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        _send(control, {"exit": pid, "code": code, "signal": sig})


def _send(control, message) -> None:
    control.send(json.dumps(message).encode())


def _receive(control):
    fds = array.array("i")
    data, ancillary, _, _ = control.recvmsg(_MAX_MESSAGE, socket.CMSG_SPACE(16 * fds.itemsize))
    for level, kind, payload in ancillary:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - (len(payload) % fds.itemsize)])
    return data, list(fds)
