"""Unexpected answers from the emulator's control API are remote errors (exit 4) with a one-line message
naming the URL and what was wrong, never a crash (exit 70); a wrong token is exit 4 for every command.

Each case runs a real HTTP server on loopback that answers a bad shape, and calls the client or the CLI."""

from __future__ import annotations

import base64
import json
import shutil
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from toolkit.cli import root
from toolkit.errors import RemoteError
from toolkit.publish.target import running_emulator
from toolkit.validate.control import ControlClient

TOKEN = "ctl-t0ken-SECRET-4711"
PREFIX = "unexpected answer from the emulator's control API at "
Reply = tuple[int, str, bytes]  # status, content type, body
Route = Callable[[str], Reply]  # path -> reply


def _json(value: object, status: int = 200) -> Reply:
    return status, "application/json", json.dumps(value).encode()


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


HTML: Reply = (200, "text/html", b"<html><body>It works!</body></html>")
TRUNCATED: Reply = (200, "application/json", b'{"gateway_url": "http://127.0.0.1:1", "st')
ARRAY = _json([1, 2])
EMPTY = _json({})
JWT = f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64({'iat': 1, 'aud': 'x'})}.c2ln"


@contextmanager
def serve(answer: Route) -> Iterator[str]:
    """A loopback HTTP server whose every request (any method) gets ``answer(path)``; its URL."""

    class Handler(BaseHTTPRequestHandler):
        def _reply(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            status, content_type, body = answer(self.path.split("?")[0])
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _reply

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def emulator_like(url_box: list[str], **overrides: Reply) -> Route:
    """Answers like the emulator's control API, except for the paths in ``overrides`` (keys: path with
    '/' as '_', e.g. _health, _tokens)."""

    def answer(path: str) -> Reply:
        key = path.replace("/", "_")
        if key in overrides:
            return overrides[key]
        base = url_box[0]
        if path == "/health":
            return _json({"status": "ok", "gateway_url": base + "/gw", "management_url": "https://127.0.0.1:1",
                          "ca_bundle_path": None})
        if path == "/subscriptions":
            return _json({"name": "toolkit-validate", "primaryKey": "k" * 32}, 201)
        if path == "/tokens":
            return _json({"token": JWT})
        if path == "/clock":
            return _json({"now": 1000.0, "speed": 1.0})
        if path == "/backends":
            return _json({"backends": {"b1": {"url": base + "/b1", "pending_faults": []}}})
        if path == "/reset":
            return 204, "application/json", b""
        return _json({"error": {"message": "no such route"}}, 404)

    return answer


@contextmanager
def control(**overrides: Reply) -> Iterator[ControlClient]:
    box: list[str] = []
    with serve(emulator_like(box, **overrides)) as url:
        box.append(url)
        client = ControlClient(url, token=TOKEN)
        try:
            yield client
        finally:
            client.close()


def _refused(call: Callable[[], object], path: str, *fragments: str) -> str:
    with pytest.raises(RemoteError) as caught:
        call()
    message = caught.value.message
    assert PREFIX in message and f"{path}: " in message, message
    for fragment in fragments:
        assert fragment in message, message
    assert "\n" not in message and TOKEN not in message and TOKEN not in (caught.value.hint or "")
    return message


# -- the client, route by route --------------------------------------------------------------------


@pytest.mark.parametrize(("reply", "fragment"), [
    (HTML, "not JSON"), (TRUNCATED, "not JSON"), (ARRAY, "an array, not an object"),
    (EMPTY, "no 'gateway_url'"), (_json({"gateway_url": 5}), "'gateway_url' is a number, not a string"),
    ((200, "application/json", b""), "an empty body"),
])
def test_health_answers_of_the_wrong_shape_are_remote_errors(reply: Reply, fragment: str) -> None:
    with control(_health=reply) as client:
        message = _refused(client.health, "/health", fragment)
        assert f"{client.url}/health: 200 " in message


def test_a_subscription_without_its_key_is_a_remote_error() -> None:
    with control(_subscriptions=_json({"name": "x"}, 201)) as client:
        _refused(lambda: client.subscription("x"), "/subscriptions", "201", "no 'primaryKey'")
    with control(_subscriptions=ARRAY) as client:
        _refused(lambda: client.subscription("x"), "/subscriptions", "an array")


@pytest.mark.parametrize(("reply", "fragment"), [
    (_json({"token": "a.b.c"}), "'token' is not a JWT"),
    (_json({"token": "no-dots"}), "'token' is not a JWT"),
    (_json({"token": f"{_b64([1])}.{_b64({})}.c2ln"}), "'token' is not a JWT"),
    (_json({"token": None}), "'token' is null, not a string"),
    (HTML, "not JSON"),
])
def test_a_token_that_is_not_a_jwt_is_a_remote_error(reply: Reply, fragment: str) -> None:
    with control(_tokens=reply) as client:
        message = _refused(lambda: client.token(audience="x"), "/tokens", fragment)
        assert "a.b.c" not in message  # the token itself is never shown


def test_clock_and_backends_answers_are_checked() -> None:
    with control(_clock=_json({"now": "soon"})) as client:
        _refused(client.now, "/clock", "'now' is a string, not a number")
        _refused(lambda: client.advance(1), "/clock", "'now' is a string, not a number")
    with control(_clock=_json({"now": True})) as client:
        _refused(client.now, "/clock", "'now' is a boolean, not a number")
    with control(_backends=_json({"backends": [1, 2]})) as client:
        _refused(client.backends, "/backends", "'backends' is an array, not an object")
    with control(_backends=_json({"backends": {"b1": {"pending_faults": []}}})) as client:
        _refused(client.backends, "/backends", "no 'url'", "b1")
    with control(_backends_b1_faults=HTML) as client:
        _refused(lambda: client.fail("b1", 500, 1), "/backends/b1/faults", "not JSON")


def test_well_formed_answers_still_work() -> None:
    with control() as client:
        assert client.health()["gateway_url"].endswith("/gw")
        assert client.subscription("x") == "k" * 32
        assert client.token(audience="x") == JWT
        assert client.now() == 1000.0
        assert client.backends()["b1"]["url"].endswith("/b1")
        client.reset()


# -- publish's look-up of a running emulator (plan, apply, pull) -----------------------------------


@pytest.mark.parametrize(("reply", "fragment"), [
    (HTML, "not JSON"), (TRUNCATED, "not JSON"), (ARRAY, "an array, not an object"),
    (EMPTY, "no 'management_url'"), (_json({"management_url": ["x"]}), "'management_url' is an array"),
    (_json({"management_url": "https://x", "ca_bundle_path": 3}), "'ca_bundle_path' is a number"),
])
def test_running_emulator_checks_its_health_answer(reply: Reply, fragment: str) -> None:
    with serve(lambda path: reply) as url:
        _refused(lambda: running_emulator(url, {"TOOLKIT_EMULATOR_TOKEN": TOKEN}), "/health", fragment)


# -- the CLI: exit 4 and the message, never 70 -----------------------------------------------------


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root_dir = Path(__file__).resolve().parents[2]
    folder = tmp_path_factory.mktemp("ctl")
    shutil.copy(root_dir / "toolkit.yaml", folder / "toolkit.yaml")
    for name in ("policies", "validations", "apimartifacts"):
        shutil.copytree(root_dir / name, folder / name)
    return folder / "toolkit.yaml"


def cli(url: str, *args: str, config: Path, token: str = TOKEN) -> Result:
    env = {"TOOLKIT_EMULATOR_URL": url, "TOOLKIT_EMULATOR_TOKEN": token, "TOOLKIT_MANAGEMENT_URL": ""}
    return CliRunner(env=env).invoke(root, [*args, "--config", str(config)])


def _exit_4(result: Result, *fragments: str) -> None:
    assert result.exit_code == 4, result.output
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert TOKEN not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


COMMANDS = [("validate", "auth", "--env", "local"), ("load", "--env", "local", "--users", "1", "--duration", "2"),
            ("plan", "--env", "local")]


@pytest.mark.parametrize("reply", [HTML, ARRAY, EMPTY, TRUNCATED], ids=["html", "array", "empty", "truncated"])
@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_cli_exits_4_on_a_bad_health_answer(project: Path, reply: Reply, command: tuple[str, ...]) -> None:
    with serve(lambda path: reply) as url:
        _exit_4(cli(url, *command, config=project), PREFIX + url + "/health: 200 ")


def test_cli_exits_4_on_a_subscription_without_a_key(project: Path) -> None:
    box: list[str] = []
    with serve(emulator_like(box, _subscriptions=_json({"name": "toolkit-validate"}, 201))) as url:
        box.append(url)
        for command in COMMANDS[:2]:
            _exit_4(cli(url, *command, config=project), PREFIX + url + "/subscriptions: 201 ", "'primaryKey'")


def test_validate_auth_reports_a_token_that_is_not_a_jwt(project: Path) -> None:
    """Met inside a scenario, a remote error makes that scenario inconclusive (the runner's rule: exit 5),
    its verdict carrying the message; before the fix it was exit 70 (Invalid base64-encoded string)."""
    box: list[str] = []
    with serve(emulator_like(box, _tokens=_json({"token": "a.b.c"}))) as url:
        box.append(url)
        result = cli(url, "validate", "auth", "--env", "local", config=project)
        assert result.exit_code == 5, result.output
        assert "internal error" not in result.output and "Traceback" not in result.output
        assert PREFIX + url + "/tokens: 200 with 'token' is not a JWT" in result.output, result.output
        assert "a.b.c" not in result.output and TOKEN not in result.output


# -- a wrong token: exit 4 whichever command meets it ------------------------------------------------


def test_a_wrong_token_is_exit_4_for_plan_and_validate_alike(project: Path) -> None:
    from toolkit.emulator.runtime import Emulator

    with Emulator() as emulator:
        url = str(emulator.control_url)
        for command in (("plan", "--env", "local"), ("validate", "auth", "--env", "local")):
            result = cli(url, *command, config=project, token="wrong")
            assert result.exit_code == 4, (command, result.output)
            assert "refused the token" in result.stderr and "TOOLKIT_EMULATOR_TOKEN" in result.stderr, result.stderr
            assert emulator.control_token not in result.output


def test_a_refusing_server_is_exit_4_for_every_command(project: Path) -> None:
    with serve(lambda path: _json({"error": {"message": "Authorization: Bearer needed"}}, 401)) as url:
        for command in COMMANDS:
            result = cli(url, *command, config=project)
            _exit_4(result, "refused the token", "TOOLKIT_EMULATOR_TOKEN")
