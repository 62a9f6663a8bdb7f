"""The library API: a sorted __all__ whose every name resolves."""

from __future__ import annotations

import toolkit


def test_all_is_sorted_and_resolves() -> None:
    assert toolkit.__all__ == sorted(toolkit.__all__)
    for name in toolkit.__all__:
        assert getattr(toolkit, name) is not None, name


def test_unknown_name_is_an_attribute_error() -> None:
    try:
        toolkit.no_such_thing  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")
