"""Unit edges of the request guard, strict JSON bodies and typed control fields (boundaries included)."""

from __future__ import annotations

import math

import pytest

from toolkit.emulator import control_input as field
from toolkit.emulator.json_body import MAX_DEPTH, JsonBodyError, loads_body
from toolkit.emulator.request_guard import GuardRules, arm_error_body, guarded_headers, host_name, refusal
from toolkit.errors import InputError


@pytest.mark.parametrize(("header", "name"), [("localhost:8080", "localhost"), ("[::1]:80", "::1"), ("::1", "::1"),
                                              ("127.0.0.1", "127.0.0.1"), ("evil.example:80", "evil.example")])
def test_host_name_of_a_host_header(header: str, name: str) -> None:
    assert host_name(header) == name


def _scope(method: str = "GET", path: str = "/x", **headers: str) -> dict[str, object]:
    return {"type": "http", "method": method, "path": path,
            "headers": [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]}


RULES = GuardRules("control API", arm_error_body, 100, token="secret", open_paths=("/issuer/",), json_only=True)


@pytest.mark.parametrize(("scope", "status"), [
    (_scope(host="127.0.0.2:1", authorization="Bearer secret"), None),
    (_scope(host="localhost.", authorization="Bearer secret"), None),
    (_scope(host="127.0.0.1.evil.example", authorization="Bearer secret"), 403),
    (_scope(authorization="Bearer secret", origin="http://[::1]:3000"), None),
    (_scope(authorization="Bearer secret", origin="http://localhost.evil.example"), 403),
    (_scope(authorization="bearer secret"), None),
    (_scope(authorization="Bearer secret2"), 401),
    (_scope(authorization="Basic secret"), 401),
    (_scope(path="/issuer/.well-known/jwks.json"), None),
    (_scope("POST", authorization="Bearer secret", content_type="application/json; charset=utf-8",
            content_length="100"), None),
    (_scope("POST", authorization="Bearer secret", content_type="application/json", content_length="101"), 413),
    (_scope("POST", authorization="Bearer secret", content_type="application/jsonx", content_length="2"), 415),
    (_scope("POST", authorization="Bearer secret", content_length="2"), 415),
    (_scope("POST", authorization="Bearer secret", content_length="0"), None),
    (_scope("GET", authorization="Bearer secret", content_type="text/plain"), None),
])
def test_refusal_rules(scope: dict[str, object], status: int | None) -> None:
    refused = refusal(RULES, scope)
    assert (refused[0] if refused else None) == status


def test_the_guard_reads_the_first_value_of_its_headers_whatever_their_case() -> None:
    scope = {"type": "http", "method": "POST", "path": "/x", "headers": [
        (b"Host", b"evil.example"), (b"X-Other", b"x"), (b"Content-Length", b"7"), (b"content-length", b"8")]}
    assert guarded_headers(scope) == {"host": "evil.example", "content-length": "7"}
    assert refusal(RULES, scope)[0] == refusal(RULES, scope, guarded_headers(scope))[0] == 403


@pytest.mark.parametrize(("headers", "version", "target", "status"), [
    ([(b"Host", b"localhost"), (b"host", b"evil.example")], "1.1", None, 400),  # two Host lines (RFC 9112 3.2)
    ([(b"Host", b"evil.example"), (b"host", b"localhost")], "1.1", None, 400),
    ([], "1.1", None, 400),  # HTTP/1.1 without Host
    ([], "1.0", None, None),  # HTTP/1.0 may omit it
    ([(b"Host", b"127.0.0.1")], "1.1", "evil.example", 403),  # absolute-form target: its host comes first
    ([(b"Host", b"127.0.0.1")], "1.1", "", 403),  # an absolute target whose host did not parse
    ([(b"Host", b"127.0.0.1")], "1.1", "localhost", None),
])
def test_host_lines_and_the_absolute_target(headers: list[tuple[bytes, bytes]], version: str, target: str | None,
                                            status: int | None) -> None:
    from toolkit.emulator.request_guard import TARGET_HOST

    scope = {"type": "http", "method": "GET", "path": "/x", "http_version": version,
             "headers": [*headers, (b"authorization", b"Bearer secret")]}
    if target is not None:
        scope[TARGET_HOST] = target
    refused = refusal(RULES, scope)
    assert (refused[0] if refused else None) == status


def test_the_gateway_rules_leave_origins_to_its_cors_policy() -> None:
    rules = GuardRules("gateway", arm_error_body, 100, same_site_only=False)
    assert refusal(rules, _scope(origin="https://app.example", sec_fetch_site="cross-site")) is None
    assert refusal(rules, _scope(host="app.example"))[0] == 403


def test_nesting_up_to_the_limit_is_accepted_and_one_more_is_not() -> None:
    assert loads_body(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH) is not None
    with pytest.raises(JsonBodyError, match="nested more than"):
        loads_body(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
    assert loads_body(b"  ", empty={}) == {}


@pytest.mark.parametrize("raw", [b'{"a": NaN}', b"-Infinity", b'"\\udfff"', b"1" * 5000, b"\xc3\x28"])
def test_what_strict_json_refuses(raw: bytes) -> None:
    with pytest.raises(JsonBodyError):
        loads_body(raw)


def test_number_bounds_are_inclusive_unless_exclusive() -> None:
    assert field.number({"n": 0}, "n", minimum=0, maximum=1) == 0
    assert field.number({"n": 1}, "n", minimum=0, maximum=1) == 1
    with pytest.raises(InputError, match=r"\(0, 1\]"):
        field.number({"n": 0}, "n", minimum=0, maximum=1, exclusive_minimum=True)
    with pytest.raises(InputError):
        field.number({"n": 1.0000001}, "n", minimum=0, maximum=1)
    with pytest.raises(InputError, match="finite"):
        field.number({"n": math.inf}, "n", minimum=0, maximum=math.inf)
    assert field.number({}, "n", minimum=0, maximum=1, default=None) is None
    with pytest.raises(InputError, match="required"):
        field.number({}, "n", minimum=0, maximum=1)
    with pytest.raises(InputError, match="whole number"):
        field.integer({"n": 1.5}, "n", minimum=0, maximum=2)


def test_text_length_and_emptiness() -> None:
    assert field.text({"s": "a" * 5}, "s", max_length=5) == "a" * 5
    with pytest.raises(InputError, match="longer than 5"):
        field.text({"s": "a" * 6}, "s", max_length=5)
    with pytest.raises(InputError, match="non-empty"):
        field.text({"s": " "}, "s")
    assert field.audience({"a": ["x", "y"]}, "a") == ["x", "y"]
    assert field.audience({}, "a") is field.MISSING
