"""The control API client and the validation target, against an httpx.MockTransport control API: each call's
method, path, body and token, each refusal's message, and how a target is opened for the emulator or Azure
(tests/unit/test_control_replies.py checks answers of the wrong shape over real loopback HTTP)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import pytest

import toolkit.validate.target as target_module
from toolkit.config.models import EnvironmentConfig
from toolkit.errors import AuthError, InputError, RemoteError
from toolkit.validate.control import ControlClient
from toolkit.validate.target import EMULATOR_URL_VAR, SECOND_KEY_VAR, Target, open_target


def _jwt() -> str:
    part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part({'aud': 'api://gw'})}.c2ln"


ANSWERS: dict[tuple[str, str], Any] = {
    ("GET", "/health"): {"gateway_url": "http://127.0.0.1:9/"},
    ("POST", "/reset"): {},
    ("GET", "/clock"): {"now": 1000.5},
    ("POST", "/clock"): {"now": 1030.5},
    ("POST", "/subscriptions"): {"name": "x", "primaryKey": "key-of-x"},
    ("POST", "/backends/east/faults"): {},
    ("POST", "/backends/east/reset"): {},
    ("GET", "/backends"): {"backends": {"east": {"url": "http://127.0.0.1:8/", "pending_faults": []}}},
    ("POST", "/tokens"): {"token": _jwt()},
}


class ControlApi:
    """Answers ANSWERS; ``status``/``body`` override every answer; remembers (method, path, auth, json body)."""

    def __init__(self, status: int = 200, body: bytes | None = None) -> None:
        self.status, self.body, self.calls = status, body, []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content) if request.content else None
        self.calls.append((request.method, request.url.path, request.headers.get("authorization"), sent))
        if self.body is not None or self.status != 200:
            return httpx.Response(self.status, content=self.body or b"")
        return httpx.Response(200, json=ANSWERS[(request.method, request.url.path)])


def _client(api: ControlApi, token: str | None = "t0k") -> ControlClient:
    return ControlClient("http://control/", token=token, transport=httpx.MockTransport(api))


def test_every_call_is_one_request_with_the_token() -> None:
    api = ControlApi()
    control = _client(api)
    assert control.health() == {"gateway_url": "http://127.0.0.1:9/"}
    control.reset()
    assert control.now() == 1000.5
    control.advance(30.0)
    assert control.subscription("x") == "key-of-x"
    control.fail("east", 429, 3)
    control.fail("east", 503, 1, retry_after=2.5)
    control.heal("east")
    assert control.backends() == {"east": {"url": "http://127.0.0.1:8/", "pending_faults": []}}
    assert control.token(audience="api://gw", expires_in=60) == _jwt()
    assert api.calls == [
        ("GET", "/health", "Bearer t0k", None), ("POST", "/reset", "Bearer t0k", None),
        ("GET", "/clock", "Bearer t0k", None), ("POST", "/clock", "Bearer t0k", {"advance": 30.0}),
        ("POST", "/subscriptions", "Bearer t0k", {"name": "x"}),
        ("POST", "/backends/east/faults", "Bearer t0k", {"status": 429, "count": 3}),
        ("POST", "/backends/east/faults", "Bearer t0k", {"status": 503, "count": 1, "retry_after": 2.5}),
        ("POST", "/backends/east/reset", "Bearer t0k", None), ("GET", "/backends", "Bearer t0k", None),
        ("POST", "/tokens", "Bearer t0k", {"audience": "api://gw", "expires_in": 60})]
    assert (control.url, control.secret) == ("http://control", "t0k")


def test_without_a_token_no_authorization_is_sent() -> None:
    api = ControlApi()
    _client(api, token=None).reset()
    assert api.calls[0][2] is None


def test_no_answer_is_a_remote_error_naming_the_call() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused")

    control = ControlClient("http://control", transport=httpx.MockTransport(refuse))
    with pytest.raises(RemoteError) as caught:
        control.advance(1.0)
    assert caught.value.message == "the emulator's control API at http://control did not answer POST /clock " \
                                   "(ConnectError)"
    assert caught.value.hint == "is `toolkit emulator start` still running?"


def test_a_refused_token_is_an_auth_error() -> None:
    with pytest.raises(AuthError) as caught:
        _client(ControlApi(status=401)).reset()
    assert caught.value.message == "the emulator's control API at http://control refused the token"
    assert caught.value.hint == "set TOOLKIT_EMULATOR_TOKEN to the token `toolkit emulator start` printed"


@pytest.mark.parametrize(("status", "body", "said"), [
    (404, json.dumps({"error": {"code": "NotFound", "message": "no simulated backend\n  'west'"}}).encode(),
     "404 no simulated backend 'west'"),
    (400, b"plain text  refusal", "400 plain text refusal"),
    (500, json.dumps({"error": "flat"}).encode(), '500 {"error": "flat"}'),
    (503, json.dumps(["x"]).encode(), '503 ["x"]'),
    (422, b"x" * 300, "422 " + "x" * 200),
])
def test_a_refusal_is_a_remote_error_with_the_apis_message(status: int, body: bytes, said: str) -> None:
    with pytest.raises(RemoteError) as caught:
        _client(ControlApi(status=status, body=body)).heal("west")
    assert caught.value.message == f"the emulator's control API refused POST /backends/west/reset: {said}"


def test_an_answer_below_400_is_not_a_refusal() -> None:
    _client(ControlApi(status=399, body=b"{}")).reset()  # read as an answer (its body is not needed)


# -- the target -------------------------------------------------------------------------------------------------

def _azure(**fields: Any) -> EnvironmentConfig:
    return EnvironmentConfig(target="azure", subscription_id="s", resource_group="r", service="apim", **fields)


@pytest.mark.parametrize(("fields", "missing"), [
    ({}, "gateway_url and subscription_key"), ({"gateway_url": "https://gw"}, "subscription_key"),
    ({"subscription_key": "k"}, "gateway_url")])
def test_an_azure_target_needs_a_gateway_url_and_a_key(fields: dict[str, str], missing: str) -> None:
    with pytest.raises(InputError) as caught:
        open_target(_azure(**fields), credential=object(), environ={})
    assert caught.value.message.startswith(f"validating an azure environment needs {missing} in its config (")


def test_an_azure_target_is_the_gateway_with_its_key_credential_and_second_key() -> None:
    credential = object()
    target = open_target(_azure(gateway_url="https://gw.example.net/", subscription_key="k1"), credential=credential,
                         environ={SECOND_KEY_VAR: "k2"})
    assert (target.label, target.gateway_url, target.subscription_key) == ("APIM gateway https://gw.example.net",
                                                                           "https://gw.example.net", "k1")
    assert target.credential is credential and target.second_key == "k2" and not target.is_emulator
    assert target.other_key("any") == "k2" and target.fresh_key("any") is None
    assert open_target(_azure(gateway_url="https://gw", subscription_key="k"), credential=credential,
                       environ={SECOND_KEY_VAR: ""}).second_key is None


def test_an_azure_target_without_a_credential_builds_the_environments(monkeypatch: pytest.MonkeyPatch) -> None:
    import toolkit.publish.credentials as credentials

    asked = []
    monkeypatch.setattr(credentials, "azure_credential",
                        lambda auth, **ids: asked.append((auth, ids)) or ("the credential", "its name"))
    target = open_target(_azure(gateway_url="https://gw", subscription_key="k", auth="cli", tenant_id="t",
                                client_id="c"), environ={})
    assert target.credential == "the credential" and asked == [("cli", {"tenant_id": "t", "client_id": "c"})]


class _Emulator:
    control_url, control_token = "http://control", "emu-token"


@pytest.fixture
def control_api(monkeypatch: pytest.MonkeyPatch) -> ControlApi:
    """Every ControlClient open_target makes talks to this API."""
    api = ControlApi()
    made = ControlClient

    def client(url: str, *, token: str | None = None) -> ControlClient:
        api.opened = (url, token)  # type: ignore[attr-defined]
        return made(url, token=token, transport=httpx.MockTransport(api))

    monkeypatch.setattr(target_module, "ControlClient", client)
    return api


def test_a_local_target_is_the_running_emulators_gateway_with_a_subscription_of_its_own(control_api) -> None:
    target = open_target(EnvironmentConfig(target="local"), emulator=_Emulator(), environ={})
    assert control_api.opened == ("http://control", "emu-token")
    assert (target.label, target.gateway_url, target.subscription_key) == (
        "local emulator at http://127.0.0.1:9/", "http://127.0.0.1:9", "key-of-x")
    assert [call[:2] for call in control_api.calls] == [("GET", "/health"), ("POST", "/subscriptions")]
    assert control_api.calls[1][3] == {"name": "toolkit-validate"} and target.is_emulator


def test_a_local_target_from_the_environment_uses_its_url_and_token(control_api) -> None:
    open_target(EnvironmentConfig(target="local"), environ={EMULATOR_URL_VAR: "http://control",
                                                            "TOOLKIT_EMULATOR_TOKEN": "env-token"})
    assert control_api.opened == ("http://control", "env-token")


def test_a_local_target_needs_a_running_emulator() -> None:
    with pytest.raises(InputError) as caught:
        open_target(EnvironmentConfig(target="local"), environ={})
    assert caught.value.message.startswith(f"validation checks a running gateway: set {EMULATOR_URL_VAR} to the "
                                           "control URL")


def test_a_failed_opening_closes_its_client(control_api, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = []
    monkeypatch.setattr(ControlClient, "close", lambda self: closed.append(self.url))
    control_api.status, control_api.body = 500, b"down"
    with pytest.raises(RemoteError):
        open_target(EnvironmentConfig(target="local"), emulator=_Emulator(), environ={})
    assert closed == ["http://control"]


def test_on_the_emulator_keys_and_tokens_come_from_its_control_api() -> None:
    api = ControlApi()
    target = Target("t", "http://gw", "k", control=_client(api))
    assert target.fresh_key("a") == "key-of-x" and target.fresh_key("a") == "key-of-x"  # made once per name
    assert target.other_key("b") == "key-of-x"
    assert [c[3] for c in api.calls] == [{"name": "a"}, {"name": "b"}]
    assert target.valid_token("api://gw") == _jwt() and api.calls[-1][3] == {"audience": "api://gw"}
    closed = []
    target.control.close = lambda: closed.append(True)  # type: ignore[union-attr,method-assign]
    target.close()
    assert closed == [True]
    Target("t", "http://gw", "k").close()  # nothing to close


def test_on_azure_a_valid_token_comes_from_the_credential_for_the_audiences_default_scope() -> None:
    class Credential:
        def get_token(self, scope: str) -> Any:
            if scope == "api://broken/.default":
                raise ValueError("no")
            return type("Token", (), {"token": f"jwt-for-{scope}"})()

    target = Target("t", "https://gw", "k", credential=Credential())
    assert target.valid_token("api://gw/") == "jwt-for-api://gw/.default"
    with pytest.raises(AuthError) as caught:
        target.valid_token("api://broken")
    assert caught.value.message == "could not get a token for api://broken/.default (ValueError)"
    assert caught.value.hint == "sign in (az login) or configure the environment's auth"
    assert Target("t", "https://gw", "k").valid_token("api://gw") is None


# -- edges ---------------------------------------------------------------------------------------------------------

def test_urls_lose_only_their_trailing_slashes() -> None:
    assert ControlClient("http://127.0.0.1:9/X/").url == "http://127.0.0.1:9/X"
    target = open_target(_azure(gateway_url="https://gw.example.net/X/", subscription_key="k"), credential=object(),
                         environ={})
    assert target.gateway_url == "https://gw.example.net/X"


def test_the_control_client_waits_thirty_seconds_for_an_answer() -> None:
    assert ControlClient("http://control")._http.timeout == httpx.Timeout(30.0)


@pytest.mark.parametrize(("body", "said"), [
    (b"a  " + b"b" * 300, "a " + "b" * 197),  # the first 200 characters taken, then whitespace collapsed
    (json.dumps({"error": {"message": "m" * 300}}).encode(), "m" * 200)])
def test_a_refusals_message_is_cut_at_200_characters(body: bytes, said: str) -> None:
    with pytest.raises(RemoteError) as caught:
        _client(ControlApi(status=400, body=body)).reset()
    assert caught.value.message == f"the emulator's control API refused POST /reset: 400 {said}"


@pytest.mark.parametrize("call", [lambda c: c.advance(1.0), lambda c: c.fail("east", 429, 1)])
def test_a_stimulus_whose_answer_is_not_json_is_a_remote_error(call: Any) -> None:
    with pytest.raises(RemoteError, match="unexpected answer from the emulator's control API at http://control/"):
        call(_client(ControlApi(status=200, body=b"<html>")))


def test_an_in_process_emulator_without_a_control_token_is_opened_without_one(control_api) -> None:
    class Bare:
        control_url = "http://control"

    open_target(EnvironmentConfig(target="local"), emulator=Bare(), environ={})
    assert control_api.opened == ("http://control", None)


def test_the_process_environment_is_read_when_none_is_given(control_api, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(EMULATOR_URL_VAR, "http://control")
    monkeypatch.setenv("TOOLKIT_EMULATOR_TOKEN", "process-token")
    open_target(EnvironmentConfig(target="local"))
    assert control_api.opened == ("http://control", "process-token")


def test_the_refusals_of_a_target_say_what_to_do() -> None:
    with pytest.raises(InputError) as caught:
        open_target(_azure(), credential=object(), environ={})
    assert caught.value.message == ("validating an azure environment needs gateway_url and subscription_key in its "
                                    "config (e.g. gateway_url: ${APIM_BASE_URL}, subscription_key: "
                                    "${APIM_SUBSCRIPTION_KEY})")
    with pytest.raises(InputError) as caught:
        open_target(EnvironmentConfig(target="local"), environ={})
    assert caught.value.message == (f"validation checks a running gateway: set {EMULATOR_URL_VAR} to the control URL "
                                    "`toolkit emulator start` prints (then `toolkit apply`), or use an azure "
                                    "environment")


def test_a_local_targets_gateway_url_loses_its_trailing_slashes(control_api) -> None:
    ANSWERS[("GET", "/health")] = {"gateway_url": "http://127.0.0.1:9/X/"}
    try:
        target = open_target(EnvironmentConfig(target="local"), emulator=_Emulator(), environ={})
    finally:
        ANSWERS[("GET", "/health")] = {"gateway_url": "http://127.0.0.1:9/"}
    assert target.gateway_url == "http://127.0.0.1:9/X"


def test_a_token_audience_loses_its_trailing_slashes_before_default() -> None:
    scopes = []
    credential = type("C", (), {"get_token": lambda self, scope: scopes.append(scope) or type("T", (), {"token": "t"})()})
    Target("t", "https://gw", "k", credential=credential()).valid_token("api://gwX//")
    assert scopes == ["api://gwX/.default"]


def test_a_backend_state_of_the_wrong_shape_is_named_in_the_error() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"backends": {"east": {"url": 5, "pending_faults": []}}})

    with pytest.raises(RemoteError) as caught:
        ControlClient("http://control", transport=httpx.MockTransport(answer)).backends()
    assert "http://control/backends" in caught.value.message and "200 with " in caught.value.message
    assert "in backend 'east'" in caught.value.message and "None" not in caught.value.message
