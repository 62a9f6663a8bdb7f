"""Management-plane defects found by probing (issue 9): a write that fails changes nothing and never
poisons the plane; validation reports every problem with APIM's ``target``. Real SDK, real emulator."""

from __future__ import annotations

from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError

from toolkit.emulator.management.store import ResourceKey, ResourceKind
from toolkit.emulator.runtime import Emulator
from toolkit.testing.management_bodies import breaker, raw, single, status_of


def _put_backend(emulator: Emulator, sdk: Any, name: str, body: dict[str, Any]) -> int:
    return sdk.backend.create_or_update(emulator.resource_group, emulator.service, name, raw(body), cls=status_of)


def _rule_without_conditions() -> dict[str, Any]:
    rules = breaker()
    del rules["rules"][0]["failureCondition"]["statusCodeRanges"]
    return rules


@pytest.mark.parametrize("circuit_breaker", [_rule_without_conditions(), {"rules": []}],
                         ids=["rule-without-ranges-or-reasons", "empty-rules"])
def test_breaker_shapes_the_spec_allows_are_stored_and_the_plane_keeps_working(
        emulator: Emulator, sdk: Any, circuit_breaker: dict[str, Any]) -> None:
    name = f"allowed-{len(circuit_breaker['rules'])}"
    assert _put_backend(emulator, sdk, name, single(circuitBreaker=circuit_breaker)) in (200, 201)
    # The gateway took it (no broken backend) and later writes of other resources still succeed.
    assert emulator.gateway.services.backend(name) is not None
    assert _put_backend(emulator, sdk, f"{name}-next", single()) == 201
    sdk.backend.delete(emulator.resource_group, emulator.service, name, if_match="*")
    sdk.backend.delete(emulator.resource_group, emulator.service, f"{name}-next", if_match="*")


def _backend_names(emulator: Emulator) -> set[str]:
    return {r.key.name for r in emulator.plane.store.list(ResourceKind.BACKEND)}


def _gateway_fails_to_load(emulator: Emulator, monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    """Make the gateway raise an unexpected error when it loads ``backend`` (others load normally)."""
    services = emulator.gateway.services
    real_set_backend = services.set_backend

    def failing(name: str, document: Any) -> None:
        if name == backend:
            raise RuntimeError("unexpected")
        real_set_backend(name, document)

    monkeypatch.setattr(services, "set_backend", failing)


def test_a_write_the_gateway_cannot_load_changes_nothing_and_later_writes_work(
        emulator: Emulator, sdk: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    _gateway_fails_to_load(emulator, monkeypatch, "poison")
    with pytest.raises(HttpResponseError) as refused:
        _put_backend(emulator, sdk, "poison", single())
    assert refused.value.status_code == 500
    assert "poison" not in _backend_names(emulator)  # the failed write changed nothing
    assert _put_backend(emulator, sdk, "healthy", single()) == 201  # and the plane is not poisoned
    assert emulator.gateway.services.backend("healthy") is not None
    sdk.backend.delete(emulator.resource_group, emulator.service, "healthy", if_match="*")


def test_validation_reports_every_problem_with_apim_targets(emulator: Emulator, sdk: Any) -> None:
    body = {"properties": {"type": "Single", "url": "not a url", "protocol": "ftp",
                           "circuitBreaker": breaker(tripDuration="soon", count=0)}}
    with pytest.raises(HttpResponseError) as refused:
        _put_backend(emulator, sdk, "many-problems", body)
    error = refused.value.response.json()["error"]
    assert refused.value.status_code == 400 and error["code"] == "ValidationError"
    assert error["message"] == "One or more fields contain incorrect values:"
    targets = [detail["target"] for detail in error["details"]]
    assert targets == ["url", "protocol", "circuitBreaker.rules[0].tripDuration",
                       "circuitBreaker.rules[0].failureCondition.count"]
    assert all(detail["code"] == "ValidationError" for detail in error["details"])
    assert "many-problems" not in _backend_names(emulator)


def test_a_restored_backend_the_gateway_cannot_load_does_not_stop_the_emulator(tmp_path) -> None:
    from toolkit.emulator.management.store import ResourceKey, ResourceStore

    state = tmp_path / "state.json"
    written = ResourceStore(state)  # as an older version might have stored it
    bad_rule = breaker(tripDuration="P1M")  # months: the gateway cannot run it
    written.put(ResourceKey(ResourceKind.BACKEND, "bad"), single(circuitBreaker=bad_rule)["properties"])
    written.put(ResourceKey(ResourceKind.BACKEND, "good"), single()["properties"])
    with Emulator(state_file=state, embed=lambda texts: [[1.0, 0.0]] * len(texts)) as emulator:
        services = emulator.gateway.services
        assert services.backend("good") is not None and services.backend("bad") is None


def test_an_undone_write_leaves_nothing_in_the_gateway_either(emulator: Emulator,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The gateway loads one backend of a write, then fails on the next: the undo removes the first too."""
    store, services = emulator.plane.store, emulator.gateway.services
    _gateway_fails_to_load(emulator, monkeypatch, "z-fails")
    with pytest.raises(RuntimeError), store.transaction():
        store.put(ResourceKey(ResourceKind.BACKEND, "a-loaded-first"), single()["properties"])
        store.put(ResourceKey(ResourceKind.BACKEND, "z-fails"), single()["properties"])
    assert services.backend("a-loaded-first") is None
    assert not {"a-loaded-first", "z-fails"} & _backend_names(emulator)
