"""The Locust engine, toolkit's side: starts a master (locust_master.py) and N local workers, then hands
them batches and soaks over a JSON-lines socket on loopback.

More workers can attach from other machines (`locust --worker -f <locustfile> --master-host HOST
--master-port PORT`): TOOLKIT_LOCUST_REMOTE_WORKERS says how many to wait for, TOOLKIT_LOCUST_BIND
which interface the master listens on (default loopback only), TOOLKIT_LOCUST_PORT its port.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from toolkit.errors import InputError, RemoteError
from toolkit.validate.engines import SoakPlan
from toolkit.validate.traffic import Outgoing, Reply

HERE = Path(__file__).resolve().parent
LOCUSTFILE = HERE / "locustfile.py"
MASTER = HERE / "locust_master.py"
REMOTE_VAR, BIND_VAR, PORT_VAR = "TOOLKIT_LOCUST_REMOTE_WORKERS", "TOOLKIT_LOCUST_BIND", "TOOLKIT_LOCUST_PORT"
ATTACH_TIMEOUT_S = 60.0


class LocustEngine:
    name = "locust"

    def __init__(self, *, users: int, workers: int, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        self.remote = _count(env.get(REMOTE_VAR, "0"), REMOTE_VAR)
        self.workers, self.users = workers, users
        if workers + self.remote < 1:
            raise InputError("the locust engine needs at least one worker (--workers, or remote workers)")
        if users < workers + self.remote:
            raise InputError(f"--users {users} is fewer than the {workers + self.remote} Locust workers: "
                             "every worker needs at least one user")
        self.bind = env.get(BIND_VAR) or "127.0.0.1"
        self.port = _count(env[PORT_VAR], PORT_VAR) if env.get(PORT_VAR) else _free_port()
        self._processes: list[subprocess.Popen[bytes]] = []
        self._logs: list[IO[bytes]] = []
        self._stream: IO[bytes] | None = None
        self._listener: socket.socket | None = None
        self._connection: socket.socket | None = None

    def start(self) -> LocustEngine:
        if importlib.util.find_spec("locust") is None:  # never imported here: it would monkey-patch this process
            raise InputError("the locust engine needs Locust: pip install 'apim-ai-gateway-toolkit[load]'")
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        control_port = self._listener.getsockname()[1]
        try:
            self._spawn([str(MASTER), "--control-port", str(control_port), "--master-port", str(self.port),
                         "--workers", str(self.workers + self.remote), "--users", str(self.users),
                         "--bind", self.bind, "--attach-timeout", str(ATTACH_TIMEOUT_S), "--loglevel", "WARNING"])
            for _ in range(self.workers):
                self._spawn(["-m", "locust", "--worker", "-f", str(LOCUSTFILE), "--master-host", "127.0.0.1",
                             "--master-port", str(self.port), "--loglevel", "WARNING"])
            self._connection = self._accept()
            self._connection.settimeout(None)
            self._stream = self._connection.makefile("rwb")
            self._expect("ready")
        except BaseException:
            self.close()
            raise
        return self

    def send_all(self, outgoing: Sequence[Outgoing], wanted: Sequence[str]) -> list[Reply]:
        items = [{"id": str(index), "url": o.url, "headers": o.headers, "body": o.body, "wanted": list(wanted),
                  "keep_body": True} for index, o in enumerate(outgoing)]
        replies = {r["id"]: r for r in self._ask({"op": "batch", "items": items})}
        return [_reply(replies[item["id"]]) if item["id"] in replies else Reply(0.0, 0.0, 0, {}, b"", "NoReply")
                for item in items]

    def soak(self, plan: SoakPlan) -> list[Reply]:
        document = {"url": plan.outgoing.url, "headers": plan.outgoing.headers, "body": plan.outgoing.body,
                    "prompts": list(plan.prompts), "nonce_words": list(plan.nonce_words),
                    "wanted": list(plan.wanted), "seconds": plan.seconds}
        return [_reply(r) for r in self._ask({"op": "soak", "plan": document})]

    def close(self) -> None:
        if self._stream is not None:
            try:
                self._send({"op": "quit"})
            except OSError:
                pass
        for process in self._processes:
            try:
                process.wait(timeout=10 if self._stream is not None and sys.exc_info()[0] is None else 1)
            except subprocess.TimeoutExpired:  # busy in a soak, or the run is being interrupted: stop it now
                process.kill()
                process.wait()
        for stream in (self._stream, self._connection, self._listener, *self._logs):
            if stream is not None:
                stream.close()
        self._processes, self._logs, self._stream, self._connection, self._listener = [], [], None, None, None

    def _accept(self) -> socket.socket:
        """The master's control connection; a master that exits first (or never calls) is an error."""
        assert self._listener is not None
        deadline = time.monotonic() + ATTACH_TIMEOUT_S
        while time.monotonic() < deadline and self._processes[0].poll() is None:
            try:
                return self._listener.accept()[0]
            except TimeoutError:
                continue
        raise RemoteError(f"the Locust master did not start{self._tail()}")

    def _spawn(self, args: list[str]) -> None:
        log = tempfile.TemporaryFile()
        self._logs.append(log)
        self._processes.append(subprocess.Popen([sys.executable, *args], stdin=subprocess.DEVNULL,
                                                stdout=log, stderr=log, env=_child_env()))

    def _send(self, message: dict[str, Any]) -> None:
        assert self._stream is not None
        self._stream.write(json.dumps(message).encode() + b"\n")
        self._stream.flush()

    def _ask(self, message: dict[str, Any]) -> list[dict[str, Any]]:
        self._send(message)
        return list(self._expect("replies")["replies"])

    def _expect(self, event: str) -> dict[str, Any]:
        assert self._stream is not None
        line = self._stream.readline()
        document = json.loads(line) if line else {"event": "error", "message": "the Locust master stopped"}
        if document.get("event") != event:
            raise RemoteError(f"Locust: {document.get('message', document)}{self._tail()}")
        return dict(document)

    def _tail(self) -> str:
        """The end of the master's and workers' output, for a message that says why they failed."""
        lines: list[str] = []
        for log in self._logs:
            log.seek(0)
            lines += log.read().decode("utf-8", "replace").strip().splitlines()[-3:]
        return ("\n  " + "\n  ".join(lines)) if lines else ""


def _reply(document: Mapping[str, Any]) -> Reply:
    return Reply(float(document["t"]), float(document["ms"]), int(document["status"]),
                 {str(k).lower(): str(v) for k, v in document["headers"].items()},
                 str(document.get("body") or "").encode("utf-8"), document.get("error"))


def _child_env() -> dict[str, str]:
    """The children import toolkit from wherever this process does (a worktree, an editable install)."""
    root = str(Path(__file__).resolve().parents[3])
    path = os.environ.get("PYTHONPATH", "")
    return {**os.environ, "PYTHONPATH": root + (os.pathsep + path if path else "")}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _count(value: str, name: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise InputError(f"{name}={value!r} is not a whole number") from None
    if number < 0:
        raise InputError(f"{name}={value!r} must not be negative")
    return number

