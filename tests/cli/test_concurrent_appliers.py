"""Two `toolkit apply` processes and a person's SDK client write to one emulator at the same time.

Nothing any of them writes is lost or silently overwritten: every applier write that replaces or deletes
an existing resource names, in If-Match, a version that applier planned on or wrote itself (every
request is logged with its client, told apart by User-Agent), the person's writes carry If-Match too;
each applier either finishes (exit 0) or stops with exit 4 naming a resource, and what the target
holds at the end is explained by who finished.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import threading
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.publish.target import LOCAL_RESOURCE_GROUP as RG
from toolkit.publish.target import LOCAL_SERVICE as SVC
from toolkit.testing.emulator_servers import management_client, serve_app_in_thread

WAIT = 180  # seconds; a bound against hangs only


def _config(urls: dict[str, str], greeting: str) -> str:
    backends = "\n".join(f'  - {{name: {name}, url: "{url}"}}' for name, url in urls.items())
    return (f"backends:\n{backends}\nnamed_values:\n  - {{name: greeting, value: {greeting}}}\n"
            "  - {name: other, value: unchanged}\nenvironments:\n  local: {target: local}\n")


BASE = _config({"b1": "https://base.example.com/1", "b2": "https://base.example.com/2",
                "b3": "https://base.example.com/3"}, "base")
APPLIER_A = _config({"b1": "https://a.example.com/1", "b2": "https://base.example.com/2",
                     "b3": "https://a.example.com/3"}, "from-a")
APPLIER_B = _config({"b1": "https://b.example.com/1", "b2": "https://b.example.com/2",
                     "b3": "https://b.example.com/3"}, "base")
SHARED = ("b1", "b3")  # both appliers change these; the manual writer never does


class RequestLog:
    """ASGI wrapper recording every management request: who (User-Agent), method, path, If-Match, status, ETag.

    Each client waits for one answer before its next request, so one client's entries are in its order.
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        entry = {"agent": headers.get("user-agent", ""), "method": scope["method"], "path": scope["path"],
                 "if_match": headers.get("if-match"), "status": 0, "etag": None}

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
                entry["etag"] = next((v.decode("latin-1") for k, v in message.get("headers", [])
                                      if k.decode("latin-1").lower() == "etag"), None)
            await send(message)

        await self.app(scope, receive, capture)
        with self._lock:
            self.entries.append(entry)

    def of(self, agent: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.entries if agent in e["agent"]]


def _tag(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def unseen_overwrites(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An applier's successful writes that replaced a version it never planned on nor wrote itself.

    Allowed: a replace or delete whose If-Match is an ETag the applier read before its first write
    (plan, pre-check) or one its own write returned (rollback); a create (201) or a delete of
    nothing (204) without one. Anything else overwrote someone else's change.
    """
    seen: set[str] = set()
    bad = []
    wrote = False
    for entry in entries:
        done = 200 <= entry["status"] < 300
        if entry["method"] not in ("PUT", "DELETE"):
            if done and entry["etag"] and not wrote:
                seen.add(_tag(entry["etag"]))
            continue
        wrote = True
        if not done:
            continue
        match = entry["if_match"]
        if match is None or match.strip() == "*":
            if entry["status"] not in ((201,) if entry["method"] == "PUT" else (204,)):
                bad.append(entry)
        elif _tag(match) not in seen:
            bad.append(entry)
        if entry["etag"]:
            seen.add(_tag(entry["etag"]))
    return bad


class ManualWriter(threading.Thread):
    """A person's client: read, change, write back with If-Match (retrying a 412), until told to stop."""

    def __init__(self, url: str, ca_bundle: str, token: str) -> None:
        super().__init__(daemon=True)
        self.sdk = management_client(url, ca_bundle, user_agent="manual-writer", token=token)
        self.stop = threading.Event()
        self.writes = 0
        self.errors: list[str] = []

    def run(self) -> None:
        from azure.core.exceptions import HttpResponseError

        n = 0
        while not self.stop.wait(0.15):
            n += 1
            try:
                self._write_backend(n) if n % 2 else self._write_greeting(n)
                self.writes += 1
            except HttpResponseError as exc:
                if exc.status_code != 412:
                    self.errors.append(str(exc))
        self.sdk.close()

    def _write_backend(self, n: int) -> None:
        _, etag = self.sdk.backend.get(RG, SVC, "b2", cls=lambda r, m, h: (m, h["ETag"]))
        body = {"properties": {"url": f"https://manual-{n}.example.com/2", "protocol": "http"}}
        self.sdk.backend.create_or_update(RG, SVC, "b2", io.BytesIO(json.dumps(body).encode()), if_match=etag)

    def _write_greeting(self, n: int) -> None:
        _, etag = self.sdk.named_value.get(RG, SVC, "greeting", cls=lambda r, m, h: (m, h["ETag"]))
        body = {"properties": {"displayName": "greeting", "value": f"manual-{n}"}}
        self.sdk.named_value.begin_create_or_update(RG, SVC, "greeting", io.BytesIO(json.dumps(body).encode()),
                                                    if_match=etag).result()


def _project(folder: Path, text: str, repo_root: Path) -> Path:
    import shutil

    folder.mkdir()
    shutil.copytree(repo_root / "policies", folder / "policies")
    (folder / "toolkit.yaml").write_text(text, encoding="utf-8")
    return folder / "toolkit.yaml"


def _apply(env: dict[str, str], config: Path, name: str) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, "-m", "toolkit", "apply", "--yes", "--config", str(config)],
                            env={**env, "AZURE_HTTP_USER_AGENT": f"applier-{name}"},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture
def logged(plane: ManagementPlane, tls: TlsMaterial, repo_root: Path) -> Iterator[tuple[dict[str, str], RequestLog]]:
    """The plane served with every request logged, and the environment pointing the CLI at it."""
    log = RequestLog(plane.app)
    with serve_app_in_thread(log, ssl=tls) as url:
        yield ({**os.environ, "PYTHONPATH": str(repo_root), "TOOLKIT_MANAGEMENT_URL": url,
                "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path), "TOOLKIT_EMULATOR_TOKEN": plane.token}, log)


def _owner(url: str) -> str:
    return url.split("//")[1].split(".")[0]  # base / a / b / manual-N


@pytest.mark.parametrize("stagger", [0.0, 0.7])
def test_two_appliers_and_a_manual_writer_lose_nothing(logged: tuple[dict[str, str], RequestLog],
                                                       plane: ManagementPlane, repo_root: Path, tmp_path: Path,
                                                       stagger: float) -> None:
    served_env, log = logged
    base = _project(tmp_path / "base", BASE, repo_root)
    first = subprocess.run([sys.executable, "-m", "toolkit", "apply", "--yes", "--config", str(base)], env=served_env,
                           capture_output=True, text=True, timeout=WAIT)
    assert first.returncode == 0, first.stderr
    manual = ManualWriter(served_env["TOOLKIT_MANAGEMENT_URL"], served_env["TOOLKIT_CA_BUNDLE"], served_env["TOOLKIT_EMULATOR_TOKEN"])
    manual.start()
    appliers = {"a": _apply(served_env, _project(tmp_path / "a", APPLIER_A, repo_root), "a")}
    time.sleep(stagger)  # not a timing assertion: two interleavings to exercise
    appliers["b"] = _apply(served_env, _project(tmp_path / "b", APPLIER_B, repo_root), "b")
    results = {name: (proc.wait(WAIT), *proc.communicate()) for name, proc in appliers.items()}
    manual.stop.set()
    manual.join(WAIT)

    for name, (code, _, stderr) in results.items():
        assert code in (0, 4), f"applier {name}: exit {code}\n{stderr}"
        if code == 4:  # stopped: it names the resource someone else changed
            assert re.search(r"(backend|named-value) '(b\d|greeting)' was changed on the target", stderr), stderr
        assert "Traceback" not in stderr and "internal error" not in stderr
    for name in appliers:  # no applier replaced a version it had not planned on or written itself
        assert log.of(f"applier-{name}") and unseen_overwrites(log.of(f"applier-{name}")) == []
    manual_writes = [e for e in log.of("manual-writer") if e["method"] == "PUT"]
    assert manual_writes and all(e["if_match"] not in (None, "*") for e in manual_writes)
    assert manual.errors == [] and manual.writes > 0

    winners = {name for name, (code, _, _) in results.items() if code == 0}
    state = {r.key.name: r.properties for r in plane.store.all()}
    owners = {_owner(state[name]["url"]) for name in SHARED}
    assert len(owners) == 1, state  # b1 and b3 always come from one writer: never half of each apply
    (owner,) = owners
    assert owner in winners | {"base"}
    if len(winners) == 1:
        assert owner in winners
    if not winners:
        assert owner == "base"
