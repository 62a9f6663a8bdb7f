"""fast_json.loads gives json.loads's value or error, with orjson or without it."""

from __future__ import annotations

import json
import math
import re
import random
from typing import Any

import pytest

from toolkit.emulator import fast_json

CASES = [
    b'{"messages":[{"role":"user","content":"hi"}],"max_tokens":16}',
    b'{"a":1,"a":2}',  # the last duplicate wins
    b'{"n": 12345678901234567890123, "m": -9223372036854775809}',  # past 64 bits: exact integers
    b"18446744073709551616",
    b'{"x": NaN, "y": Infinity, "z": -Infinity}',
    b'"\\ud800"',  # a lone surrogate
    b"1e400",
    '{"utf16": "\u00e9"}'.encode("utf-16"),
    b'\xef\xbb\xbf{"bom": true}',
    b' {"padded": [1, 2.5, -0.0, true, false, null]} ',
    '{"text": "caf\u00e9 \u2603 \U0001f600"}'.encode(),
]
BAD = [b"[1,]", b"{", b"\xff", b"", b"nul", b'{"a":1} x']


def _same(left: Any, right: Any) -> bool:
    if isinstance(left, float) and isinstance(right, float):
        return (math.isnan(left) and math.isnan(right)) or (left == right and math.copysign(1, left) == math.copysign(1, right))
    if isinstance(left, dict) and isinstance(right, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(_same(a, b) for a, b in zip(left, right, strict=True))
    return type(left) is type(right) and left == right


@pytest.fixture(params=["orjson", "stdlib"])
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Any:
    if request.param == "stdlib":
        monkeypatch.setattr(fast_json, "_orjson", None)
    elif fast_json._orjson is None:
        pytest.skip("orjson is not installed")
    return fast_json.loads


@pytest.mark.parametrize("raw", CASES)
def test_the_same_value_as_json_loads(loader: Any, raw: bytes) -> None:
    assert _same(loader(raw), json.loads(raw))


def test_big_integers_stay_exact_integers(loader: Any) -> None:
    value = loader(b'{"n": 12345678901234567890123}')["n"]
    assert type(value) is int and value == 12345678901234567890123


def test_floats_round_as_the_standard_library_does(loader: Any) -> None:
    rng = random.Random(7)
    texts = [repr(rng.uniform(-1e6, 1e6)) for _ in range(300)] + [f"{rng.random():.17e}" for _ in range(300)]
    raw = ("[" + ",".join(texts) + "]").encode()
    assert _same(loader(raw), json.loads(raw))


@pytest.mark.parametrize("raw", BAD)
def test_the_same_error_class_as_json_loads(loader: Any, raw: bytes) -> None:
    with pytest.raises(ValueError) as expected:
        json.loads(raw)
    with pytest.raises(ValueError) as got:
        loader(raw)
    assert type(got.value) is type(expected.value)


@pytest.mark.parametrize("raw", [b"12345678901234567890", b"[1,12345678901234567890]", b'{"n":-12345678901234567890}',
                                 b'{"n": 12345678901234567890.5}'])
def test_long_integer_parts_go_to_the_standard_library(monkeypatch: pytest.MonkeyPatch, raw: bytes) -> None:
    if fast_json._orjson is None:
        pytest.skip("orjson is not installed")
    monkeypatch.setattr(fast_json, "_orjson", _Refusing())
    assert _same(fast_json.loads(raw), json.loads(raw))


def test_long_fractions_stay_with_orjson(monkeypatch: pytest.MonkeyPatch) -> None:
    """An embeddings answer: floats whose fractions run past 19 digits (0.00012345678901234567) hold no big
    integer, so orjson parses them (json.loads took ~10x longer on 384 of them)."""
    if fast_json._orjson is None:
        pytest.skip("orjson is not installed")
    raw = b'{"embedding": [0.00012345678901234567, -0.0098765432109876543, 1e-05]}'
    monkeypatch.setattr(fast_json.json, "loads", _refused)
    assert fast_json.loads(raw) == {"embedding": [0.00012345678901234567, -0.0098765432109876543, 1e-05]}


class _Refusing:
    """An orjson that must not be asked."""

    @staticmethod
    def loads(body: bytes) -> Any:
        raise AssertionError(f"orjson was asked to parse {body!r}")


def _refused(*_: Any, **__: Any) -> Any:
    raise AssertionError("json.loads was asked")


def test_without_exact_integers_no_body_is_scanned_and_json_errors_stay_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    """``exact_integers=False`` (an embeddings answer): orjson parses even a body with a long digit run, the scan
    for one never runs; a body orjson refuses still gets json.loads's value or error."""
    if fast_json._orjson is None:
        pytest.skip("orjson is not installed")

    def no_scan(body: bytes) -> bool:
        raise AssertionError("scanned")

    monkeypatch.setattr(fast_json, "_may_hold_big_integer", no_scan)
    raw = b'{"data": [{"index": 0, "embedding": "AAAAAA=="}], "id": 12345678901234567890123}'
    assert fast_json.loads(raw, exact_integers=False)["data"] == [{"index": 0, "embedding": "AAAAAA=="}]
    assert fast_json.loads(b'{"x": NaN}', exact_integers=False)["x"] != 0  # orjson refuses NaN: json.loads reads it
    with pytest.raises(ValueError):
        fast_json.loads(b"[1,]", exact_integers=False)
    with pytest.raises(AssertionError, match="scanned"):
        fast_json.loads(raw)  # the default still scans


_INTEGER_RUN = re.compile(rb"(?<![0-9.])[0-9]{19}")  # what the scan must find: 19 digits not after a "." or a digit


def test_the_scan_finds_exactly_the_long_runs_not_after_a_point() -> None:
    """Random bodies of digits, points and other bytes, runs of every length around 19 and fractions long enough for
    the scan to go on past them: `_may_hold_big_integer` agrees with a regex on every one."""
    rng = random.Random(11)
    pieces = [b" ", b".", b"-", b"e", b'"', b",", b"x"]
    for _ in range(4000):
        parts = []
        for _ in range(rng.randint(1, 6)):
            parts.append(rng.choice(pieces) * rng.randint(1, 2))
            parts.append(bytes(rng.choice(b"0123456789") for _ in range(rng.choice((1, 5, 18, 19, 20, 37, 38, 39, 60)))))
        body = b"".join(parts)
        assert fast_json._may_hold_big_integer(body) == bool(_INTEGER_RUN.search(body)), body
