"""GatewayRuntime keeps in step with the store by reloading only what a write reaches.

Each kind of change is reflected (APIs, operations, policies, backends, named values, fragments), and
unrelated compiled state is reused: asserted by object identity and by counting compilations.
"""

from __future__ import annotations

from typing import Any

import pytest

import toolkit.emulator.gateway.app as gateway_app
from toolkit.emulator.gateway.app import GatewayRuntime
from toolkit.emulator.management import ManagementPlane, ResourceKey, ResourceKind
from toolkit.emulator.policy.default_services import DefaultGatewayServices

BREAKER = {"rules": [{"name": "r", "failureCondition": {"count": 3, "interval": "PT1M",
                                                         "statusCodeRanges": [{"min": 500, "max": 599}]},
                      "tripDuration": "PT1M"}]}


class _Farm:
    def simulated_url(self, name: str, url: str) -> str:
        return url


def _policy(inbound: str, *, base: bool = True) -> str:
    b = "<base />" if base else ""
    return (f"<policies><inbound>{b}{inbound}</inbound><backend>{b}</backend>"
            f"<outbound>{b}</outbound><on-error>{b}</on-error></policies>")


def _key(kind: ResourceKind, name: str = "", parent: str = "") -> ResourceKey:
    return ResourceKey(kind, name, parent)


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scope of every policy the gateway compiles, in order."""
    seen: list[str] = []
    real = gateway_app.compile_policy

    def counting(xml: str, scope: str, **kwargs: Any) -> Any:
        seen.append(scope)
        return real(xml, scope, **kwargs)

    monkeypatch.setattr(gateway_app, "compile_policy", counting)
    return seen


@pytest.fixture
def gateway() -> GatewayRuntime:
    plane = ManagementPlane()
    put = plane.store.put
    put(_key(ResourceKind.NAMED_VALUE, "nv1"), {"displayName": "nv1", "value": "one"})
    put(_key(ResourceKind.NAMED_VALUE, "nv2"), {"displayName": "nv2", "value": "two"})
    put(_key(ResourceKind.BACKEND, "b1"), {"url": "https://b1.example", "circuitBreaker": BREAKER})
    put(_key(ResourceKind.BACKEND, "b2"), {"url": "https://b2.example", "circuitBreaker": BREAKER,
                                           "credentials": {"header": {"api-key": ["{{nv2}}"]}}})
    put(_key(ResourceKind.FRAGMENT, "frag1"), {"value": "<fragment><set-header name=\"f\" exists-action=\"override\">"
                                                        "<value>{{nv1}}</value></set-header></fragment>"})
    for api in ("a1", "a2", "a3"):
        put(_key(ResourceKind.API, api), {"displayName": api, "path": api, "protocols": ["https"]})
        put(_key(ResourceKind.OPERATION, "op", api), {"method": "POST", "urlTemplate": "/chat"})
    put(_key(ResourceKind.API_POLICY, "a1"), {"value": _policy('<include-fragment fragment-id="frag1" />')})
    put(_key(ResourceKind.API_POLICY, "a2"), {"value": _policy('<set-backend-service backend-id="b1" />')})
    put(_key(ResourceKind.API_POLICY, "a3"), {"value": _policy("<set-header name=\"x\" exists-action=\"override\">"
                                                                "<value>{{nv2}}</value></set-header>")})
    put(_key(ResourceKind.OPERATION_POLICY, "op", "a3"), {"value": _policy("")})
    put(_key(ResourceKind.GLOBAL_POLICY), {"value": _policy("", base=False)})
    runtime = GatewayRuntime(plane, DefaultGatewayServices(object()), _Farm())  # type: ignore[arg-type]
    runtime.rebuild()
    return runtime


def _snapshot(gateway: GatewayRuntime) -> tuple[dict[Any, Any], dict[str, Any]]:
    return dict(gateway._policies), dict(gateway.services._backends)


def test_the_fixture_compiles_every_policy(gateway: GatewayRuntime) -> None:
    assert set(gateway._policies) == {("global", "", ""), ("api", "a1", ""), ("api", "a2", ""), ("api", "a3", ""),
                                      ("operation", "a3", "op")}
    assert not gateway._broken


def test_a_policy_write_compiles_that_policy_only(gateway: GatewayRuntime, compiles: list[str]) -> None:
    policies, backends = _snapshot(gateway)
    gateway.plane.store.put(_key(ResourceKind.API_POLICY, "a2"), {"value": _policy("")})
    assert compiles == ["api"]
    assert gateway._policies[("api", "a2", "")] is not policies[("api", "a2", "")]
    for key in policies.keys() - {("api", "a2", "")}:
        assert gateway._policies[key] is policies[key]
    assert all(gateway.services._backends[name] is backend for name, backend in backends.items())


def test_a_backend_write_reloads_that_backend_and_keeps_the_others_and_their_breakers(
        gateway: GatewayRuntime, compiles: list[str]) -> None:
    policies, backends = _snapshot(gateway)
    breaker_b2 = gateway.services.breakers()["b2"]
    gateway.plane.store.put(_key(ResourceKind.BACKEND, "b1"), {"url": "https://moved.example", "circuitBreaker": BREAKER})
    assert gateway.services._backends["b1"] is not backends["b1"]
    assert gateway.services._backends["b1"].url == "https://moved.example"
    assert gateway.services._backends["b2"] is backends["b2"]
    assert gateway.services.breakers()["b2"] is breaker_b2
    assert compiles == []  # an update keeps the set of backend names: no policy depends on it
    assert gateway._policies == policies


def test_deleting_a_backend_recompiles_the_policies_that_name_it(gateway: GatewayRuntime, compiles: list[str]) -> None:
    policies, _ = _snapshot(gateway)
    gateway.plane.store.delete(_key(ResourceKind.BACKEND, "b1"))
    assert "b1" not in gateway.services._backends
    assert "backend 'b1' does not exist" in gateway._broken[("api", "a2", "")]
    assert compiles == ["api"]
    assert gateway._policies[("api", "a1", "")] is policies[("api", "a1", "")]
    gateway.plane.store.put(_key(ResourceKind.BACKEND, "b1"), {"url": "https://b1.example"})
    assert ("api", "a2", "") not in gateway._broken and ("api", "a2", "") in gateway._policies


def test_a_named_value_write_recompiles_its_users_and_reloads_backends_whose_credentials_use_it(
        gateway: GatewayRuntime, compiles: list[str]) -> None:
    policies, backends = _snapshot(gateway)
    gateway.plane.store.put(_key(ResourceKind.NAMED_VALUE, "nv2"), {"displayName": "nv2", "value": "TWO"})
    assert sorted(compiles) == ["api"]  # a3's API policy (its operation policy does not mention nv2)
    assert gateway._policies[("api", "a3", "")] is not policies[("api", "a3", "")]
    assert gateway._policies[("operation", "a3", "op")] is policies[("operation", "a3", "op")]
    assert gateway.services._backends["b2"] is not backends["b2"]
    assert dict(gateway.services._backends["b2"].credential_headers) == {"api-key": "TWO"}
    assert gateway.services._backends["b1"] is backends["b1"]
    gateway.plane.store.delete(_key(ResourceKind.NAMED_VALUE, "nv2"))
    assert "nv2" in gateway._broken[("api", "a3", "")]


def test_a_fragment_or_its_named_value_recompiles_the_fragment_and_the_policies_including_it(
        gateway: GatewayRuntime, compiles: list[str]) -> None:
    policies, _ = _snapshot(gateway)
    fragment = gateway.services.fragment("frag1")
    gateway.plane.store.put(_key(ResourceKind.NAMED_VALUE, "nv1"), {"displayName": "nv1", "value": "ONE"})
    assert compiles == ["fragment", "api"]
    assert gateway.services.fragment("frag1") is not fragment
    assert gateway._policies[("api", "a1", "")] is not policies[("api", "a1", "")]
    assert gateway._policies[("api", "a2", "")] is policies[("api", "a2", "")]
    compiles.clear()
    gateway.plane.store.delete(_key(ResourceKind.FRAGMENT, "frag1"))
    assert compiles == ["api"]
    assert gateway.services.fragment("frag1") is None
    assert "frag1" in gateway._broken[("api", "a1", "")]


def test_api_and_operation_writes_change_routing_and_an_api_delete_drops_its_policies(
        gateway: GatewayRuntime, compiles: list[str]) -> None:
    store = gateway.plane.store
    store.put(_key(ResourceKind.API, "a4"), {"displayName": "a4", "path": "a4/deeper", "protocols": ["https"]})
    assert gateway.match("/a4/deeper/x").name == "a4"
    assert len(gateway._operations["a4"]) == 0
    store.put(_key(ResourceKind.OPERATION, "op", "a4"), {"method": "GET", "urlTemplate": "/x"})
    assert gateway._operations["a4"].find("GET", "/x", "") is not None
    assert compiles == []
    with store.transaction():
        for key in [r.key for r in store.list(ResourceKind.OPERATION_POLICY, "a3")] + [
                _key(ResourceKind.API_POLICY, "a3"), _key(ResourceKind.OPERATION, "op", "a3"), _key(ResourceKind.API, "a3")]:
            store.delete(key)
    assert gateway.match("/a3/chat") is None and "a3" not in gateway._operations
    assert not any(key[1] == "a3" for key in gateway._policies)



def test_an_api_re_created_under_policies_left_in_the_store_gets_them_compiled_again(
        gateway: GatewayRuntime, compiles: list[str]) -> None:
    store = gateway.plane.store
    properties = store.get(_key(ResourceKind.API, "a3")).properties
    store.delete(_key(ResourceKind.API, "a3"))  # the store alone: its policies stay behind
    assert not any(key[1] == "a3" for key in gateway._policies) and compiles == []
    store.put(_key(ResourceKind.API, "a3"), properties)
    assert {key for key in gateway._policies if key[1] == "a3"} == {("api", "a3", ""), ("operation", "a3", "op")}
    assert sorted(compiles) == ["api", "operation"]


def test_a_failed_write_is_undone_in_the_gateway_too(gateway: GatewayRuntime) -> None:
    """A transaction changing a named value and bringing a backend the gateway refuses: nothing stays."""
    store = gateway.plane.store
    before = gateway.services._backends["b2"]
    with pytest.raises(Exception, match="needs a 'url'"), store.transaction():
        store.put(_key(ResourceKind.NAMED_VALUE, "nv2"), {"displayName": "nv2", "value": "TWO"})
        store.put(_key(ResourceKind.BACKEND, "bad"), {"description": "no url"})
    assert "bad" not in gateway.services._backends
    assert dict(gateway.services._backends["b2"].credential_headers) == {"api-key": "two"}
    assert gateway.services._backends["b2"] is not before  # reloaded with the old value, not left at the new one
    assert gateway._named_values["nv2"] == "two"


def test_the_same_writes_leave_the_gateway_as_a_full_rebuild_would(gateway: GatewayRuntime) -> None:
    store = gateway.plane.store
    store.put(_key(ResourceKind.NAMED_VALUE, "nv1"), {"displayName": "nv1", "value": "changed"})
    store.delete(_key(ResourceKind.BACKEND, "b1"))
    store.put(_key(ResourceKind.API, "a5"), {"displayName": "a5", "path": "", "protocols": ["https"]})
    store.put(_key(ResourceKind.API_POLICY, "a5"), {"value": _policy('<set-backend-service backend-id="b1" />')})
    incremental = (sorted(gateway._policies), dict(gateway._broken), [a.name for a in gateway._routes.apis()],
                   sorted(gateway.services._backends))
    gateway.rebuild()
    assert incremental == (sorted(gateway._policies), dict(gateway._broken), [a.name for a in gateway._routes.apis()],
                           sorted(gateway.services._backends))


def test_a_non_current_api_revision_written_later_is_stored_but_not_served(gateway: GatewayRuntime) -> None:
    gateway.plane.store.put(_key(ResourceKind.API, "a4;rev=2"), {"displayName": "a4", "path": "a4",
                                                               "protocols": ["https"], "isCurrent": False})
    assert gateway.match("/a4/chat") is None and "a4;rev=2" not in gateway._operations
    gateway.plane.store.put(_key(ResourceKind.API, "a4"), {"displayName": "a4", "path": "a4", "protocols": ["https"]})
    assert gateway.match("/a4/chat").name == "a4"


def test_a_version_set_written_later_reroutes_its_apis(gateway: GatewayRuntime) -> None:
    store = gateway.plane.store
    store.put(_key(ResourceKind.VERSION_SET, "vs"), {"displayName": "vs", "versioningScheme": "Segment"})
    store.put(_key(ResourceKind.API, "vs-v1"), {"displayName": "vs", "path": "vs", "apiVersion": "v1",
                                                "apiVersionSetId": "/apiVersionSets/vs"})
    assert gateway.match("/vs/v1/chat").name == "vs-v1" and gateway.match("/vs/chat") is None
    store.put(_key(ResourceKind.VERSION_SET, "vs"), {"displayName": "vs", "versioningScheme": "Header",
                                                     "versionHeaderName": "Api-Version"})
    assert gateway.match("/vs/v1/chat") is None
    assert gateway.match("/vs/chat", "", [("api-version", "v1")]).name == "vs-v1"
    routes = [a.name for a in gateway._routes.apis()]
    gateway.rebuild()
    assert routes == [a.name for a in gateway._routes.apis()]


def test_named_values_renamed_and_swapped_in_one_transaction_map_as_a_full_rebuild_would(
        gateway: GatewayRuntime) -> None:
    store = gateway.plane.store
    store.put(_key(ResourceKind.NAMED_VALUE, "nv1"), {"displayName": "renamed", "value": "one"})
    assert "nv1" not in gateway._named_values and gateway._named_values["renamed"] == "one"
    assert "nv1" in gateway._broken[("api", "a1", "")]  # its fragment still says {{nv1}}
    with store.transaction():  # two display names swapped at once
        store.put(_key(ResourceKind.NAMED_VALUE, "nv1"), {"displayName": "nv2", "value": "one"})
        store.put(_key(ResourceKind.NAMED_VALUE, "nv2"), {"displayName": "renamed", "value": "two"})
    assert gateway._named_values == {"nv2": "one", "renamed": "two"} == gateway.plane.view.named_values()
    assert dict(gateway.services._backends["b2"].credential_headers) == {"api-key": "one"}  # {{nv2}} is nv1 now
    store.delete(_key(ResourceKind.NAMED_VALUE, "nv1"))
    assert gateway._named_values == {"renamed": "two"} == gateway.plane.view.named_values()


def test_a_write_reads_only_the_resources_it_touched(gateway: GatewayRuntime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Listing every named value or backend per write makes an apply of N resources quadratic.
    store = gateway.plane.store
    listed: list[ResourceKind] = []
    real_list = store.list

    def recording_list(kind: ResourceKind, parent: str | None = None) -> Any:
        listed.append(kind)
        return real_list(kind, parent)

    monkeypatch.setattr(store, "list", recording_list)
    store.put(_key(ResourceKind.NAMED_VALUE, "nv3"), {"displayName": "nv3", "value": "three"})
    store.put(_key(ResourceKind.NAMED_VALUE, "nv2"), {"displayName": "nv2", "value": "TWO"})
    store.put(_key(ResourceKind.BACKEND, "b3"), {"url": "https://b3.example"})
    assert ResourceKind.NAMED_VALUE not in listed and ResourceKind.BACKEND not in listed
    assert gateway._named_values["nv3"] == "three" and "b3" in gateway.services._backends
    assert dict(gateway.services._backends["b2"].credential_headers) == {"api-key": "TWO"}
