"""Warm workers: one process imports torch, transformers and peft once, then forks every worker of the run.

The supervisor starts the zygote (``start``, early, so its imports overlap the supervisor's own planning) and asks
it for workers (``spawn``). Each request carries the worker's two pipe ends (commands in, events out) as passed file
descriptors and the environment the worker should see. The zygote forks twice, so the worker is re-parented to the
supervisor, which is a child subreaper: the supervisor waits for its workers and reads their exit status as if it
had started them itself, and a worker in which a case segfaults never takes the zygote with it. No case ever runs in
the zygote, so every worker (a flake re-run's too) starts in a process in which no case has run.

Parent death: the zygote and every worker ask the kernel for SIGKILL when their parent dies (``PR_SET_PDEATHSIG``),
so a supervisor killed with SIGKILL leaves nothing behind. Linux only (``prctl``).
"""

from __future__ import annotations

import atexit
import ctypes
import gc
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
#: a fork request and its reply are one JSON line each, far below this
_MESSAGE_BYTES = 1 << 20
#: seconds a new worker waits to be adopted by the supervisor (milliseconds in practice) before giving up
_ADOPTION_S = 10.0


def _prctl(option: int, value: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option}, {value}) failed: warm workers need Linux")


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent dies; exit at once when ``parent`` is already gone (the race between
    fork and prctl)."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        os._exit(1)


@dataclass
class Forked:
    """A worker forked by the zygote and adopted by this process: ``poll``/``kill``/``wait`` as on ``Popen``."""

    pid: int
    returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def wait(self) -> int:
        if self.returncode is None:
            _, status = os.waitpid(self.pid, 0)
            self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def kill(self) -> None:
        if self.poll() is None:
            os.kill(self.pid, signal.SIGKILL)


class Zygote:
    """The supervisor's handle on its zygote process."""

    def __init__(self) -> None:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "harness.run.zygote", str(theirs.fileno()), str(os.getpid())],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, env=env,
        )
        theirs.close()
        self.socket = ours
        self.replies = ours.makefile("r", encoding="utf-8")
        self.started = time.monotonic()
        #: seconds from start until the zygote forked its first worker: its imports, the price of a cold process
        self.warm_s: float | None = None

    def spawn(self, env: dict[str, str]) -> tuple[Forked, TextIO, TextIO]:
        """A fresh worker with ``env`` as its environment: its process, its command stream, its event stream.
        Waits for the zygote's imports on the first call."""
        commands_r, commands_w = os.pipe()
        events_r, events_w = os.pipe()
        try:
            request = json.dumps({"env": env}).encode() + b"\n"
            socket.send_fds(self.socket, [request], [commands_r, events_w])
            reply = self.replies.readline()
        finally:
            os.close(commands_r)
            os.close(events_w)
        if not reply:
            os.close(commands_w)
            os.close(events_r)
            raise RuntimeError(f"the zygote exited ({self._status()}) before forking a worker")
        answer = json.loads(reply)
        if "pid" not in answer:
            os.close(commands_w)
            os.close(events_r)
            raise RuntimeError(f"the zygote could not fork a worker: {answer.get('error')}")
        forked = Forked(answer["pid"])
        if self.warm_s is None:
            self.warm_s = time.monotonic() - self.started
        return forked, os.fdopen(commands_w, "w", encoding="utf-8"), os.fdopen(events_r, "r", encoding="utf-8")

    def alive(self) -> bool:
        return self.process.poll() is None

    def close(self) -> None:
        """End the zygote; it holds nothing worth flushing (its workers are the supervisor's children now)."""
        self.socket.close()
        self.replies.close()
        self.process.kill()
        self.process.wait()

    def _status(self) -> str:
        code = self.process.poll()
        if code is None:
            return "still running"
        return f"killed by {signal.Signals(-code).name}" if code < 0 else f"status {code}"


_shared: Zygote | None = None


def shared() -> Zygote:
    """This process's zygote, started on first use and restarted if it died (flake re-runs reuse it: no imports)."""
    global _shared
    if _shared is None or not _shared.alive():
        _shared = Zygote()
        atexit.register(_shared.close)
    return _shared


def start() -> None:
    """Start the zygote now, so that its imports run while the caller plans the run."""
    shared()


def _serve_worker(request: dict[str, Any], fds: list[int], supervisor: int) -> None:
    """In the grandchild: wait to be adopted by the supervisor, then be a worker until its commands end."""
    deadline = time.monotonic() + _ADOPTION_S
    while os.getppid() != supervisor:  # the intermediate exits at once; the kernel re-parents us to the subreaper
        if time.monotonic() > deadline:
            os._exit(1)
        time.sleep(0.001)
    die_with_parent(supervisor)
    os.environ.clear()
    os.environ.update(request["env"])
    from harness.run.worker import serve

    commands_fd, events_fd = fds
    with os.fdopen(commands_fd, "r", encoding="utf-8") as commands, \
            os.fdopen(events_fd, "w", encoding="utf-8") as events:  # worker.Events says when to flush
        serve(commands, events)


def _fork_worker(channel: socket.socket, request: dict[str, Any], fds: list[int], supervisor: int) -> None:
    """Fork an intermediate that forks the worker, reports its pid and exits."""
    intermediate = os.fork()
    if intermediate == 0:
        code = 0
        try:
            worker = os.fork()
            if worker == 0:
                code = 1
                channel.close()
                try:
                    _serve_worker(request, fds, supervisor)
                    code = 0
                finally:
                    os._exit(code)
            channel.sendall(json.dumps({"pid": worker}).encode() + b"\n")
        except BaseException:  # noqa: BLE001 - the intermediate must never return into the zygote's loop
            code = 1
        os._exit(code)
    _, status = os.waitpid(intermediate, 0)
    for fd in fds:
        os.close(fd)
    if status != 0:  # it reported no pid: say so, or the supervisor would wait for a reply forever
        channel.sendall(json.dumps({"error": f"fork failed ({os.waitstatus_to_exitcode(status)})"}).encode() + b"\n")


def main() -> None:
    channel_fd, supervisor = int(sys.argv[1]), int(sys.argv[2])
    die_with_parent(supervisor)
    from harness.quiet import quiet_libraries
    from harness.run.worker import warm_up

    quiet_libraries()
    warm_up()
    gc.collect()
    gc.freeze()  # what the imports made is never garbage: no worker's collections walk it (nor copy its pages)
    channel = socket.socket(fileno=channel_fd)
    while True:
        message, fds, _, _ = socket.recv_fds(channel, _MESSAGE_BYTES, 2)
        if not message:
            return
        _fork_worker(channel, json.loads(message), fds, supervisor)


if __name__ == "__main__":
    main()
