"""merge_patch: RFC 7396's JSON merge patch, checked against the RFC's own examples (appendix A)."""

from __future__ import annotations

from typing import Any

import pytest

from toolkit.emulator.management.routes._crud import merge_patch


@pytest.mark.parametrize(("target", "patch", "result"), [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
    ({"a": {"b": "c", "x": 1}}, {"a": {"b": "d"}}, {"a": {"b": "d", "x": 1}}),  # an object merges into the target's
])
def test_the_rfc_examples(target: Any, patch: Any, result: Any) -> None:
    assert merge_patch(target, patch) == result


def test_neither_argument_is_changed() -> None:
    target, patch = {"a": {"b": 1}}, {"a": {"b": None, "c": 2}}
    merge_patch(target, patch)
    assert (target, patch) == ({"a": {"b": 1}}, {"a": {"b": None, "c": 2}})
