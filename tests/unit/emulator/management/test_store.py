"""ResourceStore: read-only shared reads, ETags, transactions, listeners, thread safety; GatewayView reads."""

from __future__ import annotations

import subprocess
import sys
import threading

from toolkit.emulator.management import (
    ChangeEvent,
    GatewayView,
    PolicyScope,
    ResourceKey,
    ResourceKind,
    ResourceStore,
)

BACKEND = ResourceKey(ResourceKind.BACKEND, "east")


def test_put_returns_a_new_etag_each_time():
    store = ResourceStore()
    first = store.put(BACKEND, {"url": "https://a"})
    second = store.put(BACKEND, {"url": "https://a"})
    assert first.etag != second.etag


def _mutations(properties):
    nested_dict, nested_list = properties["pool"], properties["pool"]["services"]
    yield lambda: properties.__setitem__("url", "mutated")
    yield lambda: properties.update(url="mutated")
    yield lambda: properties.pop("url")
    yield lambda: properties.setdefault("new", 1)
    yield lambda: properties.clear()
    yield lambda: nested_dict.__setitem__("services", [])
    yield lambda: nested_list.append({"id": "x"})
    yield lambda: nested_list[0].__setitem__("id", "x")
    yield lambda: nested_list.sort()
    yield lambda: nested_list.__delitem__(0)


def test_reads_share_stored_state_read_only_and_no_reader_can_change_it():
    store = ResourceStore()
    source = {"url": "https://a", "pool": {"services": [{"id": "b1"}, {"id": "b2"}]}}
    store.put(BACKEND, source)
    source["url"] = "changed by the writer afterwards"
    source["pool"]["services"].append({"id": "b3"})
    got = store.get(BACKEND)
    assert store.get(BACKEND) is got and store.list(ResourceKind.BACKEND)[0] is got  # no copy per read
    for read in (got.properties, store.list(ResourceKind.BACKEND)[0].properties, store.all()[0].properties):
        for mutate in _mutations(read):
            try:
                mutate()
            except TypeError:
                continue
            raise AssertionError("a reader changed stored state")
    assert store.get(BACKEND).properties == {"url": "https://a", "pool": {"services": [{"id": "b1"}, {"id": "b2"}]}}


def test_a_deep_copy_of_a_read_is_plain_and_mutable_and_json_sees_plain_values():
    import copy
    import json

    store = ResourceStore()
    store.put(BACKEND, {"pool": {"services": [{"id": "b1"}]}})
    mine = copy.deepcopy(store.get(BACKEND).properties)
    mine["pool"]["services"].append({"id": "b2"})
    assert type(mine) is dict and type(mine["pool"]["services"]) is list
    assert json.loads(json.dumps(store.get(BACKEND).properties)) == {"pool": {"services": [{"id": "b1"}]}}


def test_list_filters_by_kind_and_parent_in_key_order():
    store = ResourceStore()
    store.put(ResourceKey(ResourceKind.OPERATION_POLICY, "b", "api1"), {"value": "x"})
    store.put(ResourceKey(ResourceKind.OPERATION_POLICY, "a", "api1"), {"value": "x"})
    store.put(ResourceKey(ResourceKind.OPERATION_POLICY, "a", "api2"), {"value": "x"})
    store.put(BACKEND, {})
    assert [r.key.name for r in store.list(ResourceKind.OPERATION_POLICY, "api1")] == ["a", "b"]
    assert len(store.list(ResourceKind.OPERATION_POLICY)) == 3


def test_listeners_get_one_call_per_transaction_in_order():
    store = ResourceStore()
    calls: list[tuple[ChangeEvent, ...]] = []
    unsubscribe = store.subscribe(lambda changes: calls.append(tuple(changes)))
    store.put(BACKEND, {})
    with store.transaction():
        store.put(ResourceKey(ResourceKind.BACKEND, "west"), {})
        store.delete(BACKEND)
        assert len(calls) == 1  # nothing announced before the transaction ends
    assert [[(e.action, e.key.name) for e in call] for call in calls] == [[("put", "east")],
                                                                         [("put", "west"), ("delete", "east")]]
    unsubscribe()
    store.put(BACKEND, {})
    assert len(calls) == 2


def test_deleting_a_missing_resource_announces_nothing():
    store = ResourceStore()
    calls: list[object] = []
    store.subscribe(calls.append)
    assert store.delete(BACKEND) is None
    assert calls == []


def test_a_listener_may_read_the_store_from_another_thread():
    store = ResourceStore()
    seen: list[object] = []

    def listener(changes):
        reader = threading.Thread(target=lambda: seen.append(store.get(BACKEND)))
        reader.start()
        reader.join(5)

    store.subscribe(listener)
    store.put(BACKEND, {"url": "u"})
    assert seen and seen[0].properties == {"url": "u"}


def test_concurrent_writers_lose_nothing():
    store = ResourceStore()
    events: list[int] = []
    store.subscribe(lambda changes: events.append(len(changes)))

    def writer(index: int) -> None:
        for j in range(50):
            store.put(ResourceKey(ResourceKind.BACKEND, f"t{index}-{j}"), {"n": j})

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(store.list(ResourceKind.BACKEND)) == 400
    assert sum(events) == 400


def test_resource_kinds_map_to_artifact_kinds():
    assert ResourceKind.API_POLICY.artifact_kind.value == "api-policy"
    assert ResourceKind.SUBSCRIPTION.artifact_kind is None


def test_gateway_view_reads_what_was_stored():
    store = ResourceStore()
    view = GatewayView(store)
    store.put(ResourceKey(ResourceKind.GLOBAL_POLICY), {"value": "<policies />", "format": "rawxml"})
    store.put(ResourceKey(ResourceKind.API_POLICY, "openai"), {"value": "<policies>api</policies>"})
    store.put(ResourceKey(ResourceKind.NAMED_VALUE, "nv1"), {"displayName": "key", "value": "v", "secret": True})
    store.put(ResourceKey(ResourceKind.SUBSCRIPTION, "s1"), {"displayName": "S", "scope": "/apis/openai",
                                                           "state": "active", "primaryKey": "p", "secondaryKey": "q"})
    assert view.policy_xml(PolicyScope.GLOBAL) == "<policies />"
    assert view.policy_xml(PolicyScope.API, "openai") == "<policies>api</policies>"
    assert view.policy_xml(PolicyScope.OPERATION, "openai", "chat") is None
    assert view.named_values() == {"key": "v"}
    assert view.subscription_for_key("p").key_slot == "primary"
    assert view.subscription_for_key("") is None
    assert [s.name for s in view.subscriptions()] == ["s1"]


def test_importing_the_hooks_does_not_load_starlette_or_azure():
    code = ("import sys, toolkit.emulator.management.hooks as h; "
            "assert not any(m.split('.')[0] in ('starlette', 'azure', 'uvicorn') for m in sys.modules), "
            "sorted(m for m in sys.modules if m.startswith(('starlette', 'azure')))")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_transaction_that_raises_changes_nothing_and_announces_nothing(tmp_path):
    store = ResourceStore(tmp_path / "state.json")
    store.put(BACKEND, {"url": "https://old"})
    seen: list[object] = []
    store.subscribe(seen.append)
    other = ResourceKey(ResourceKind.BACKEND, "west")
    try:
        with store.transaction():
            store.put(BACKEND, {"url": "https://new"})
            store.put(other, {"url": "https://w"})
            raise ValueError("validation failed half-way")
    except ValueError:
        pass
    assert store.get(BACKEND).properties == {"url": "https://old"}
    assert store.get(other) is None
    assert seen == []
    assert ResourceStore(tmp_path / "state.json").get(BACKEND).properties == {"url": "https://old"}


def test_a_listener_that_fails_undoes_the_write_and_the_next_write_works():
    store = ResourceStore()
    store.put(BACKEND, {"url": "https://old"})
    states: list[str | None] = []

    def gateway(events):
        resource = store.get(BACKEND)
        states.append(resource.properties["url"] if resource else None)
        if resource is not None and resource.properties["url"] == "https://bad":
            raise RuntimeError("cannot load")

    store.subscribe(gateway)
    try:
        store.put(BACKEND, {"url": "https://bad"})
    except RuntimeError:
        pass
    assert store.get(BACKEND).properties == {"url": "https://old"}
    assert states == ["https://bad", "https://old"]  # the listener saw the old state again
    store.put(BACKEND, {"url": "https://good"})
    assert store.get(BACKEND).properties == {"url": "https://good"}


def _listed_by_kind_matches_everything(store: ResourceStore) -> None:
    everything = store.all()
    for kind in ResourceKind:
        assert store.list(kind) == [r for r in everything if r.key.kind is kind], kind


def test_listing_one_kind_agrees_with_everything_through_writes_rollbacks_and_reloads(tmp_path):
    store = ResourceStore(tmp_path / "state.json")
    named = ResourceKey(ResourceKind.NAMED_VALUE, "nv")
    store.put(BACKEND, {"url": "https://a"})
    store.put(named, {"displayName": "nv", "value": "1"})
    store.put(ResourceKey(ResourceKind.OPERATION, "op", "api"), {"method": "GET"})
    _listed_by_kind_matches_everything(store)
    store.delete(named)
    _listed_by_kind_matches_everything(store)
    try:
        with store.transaction():
            store.put(named, {"displayName": "nv", "value": "2"})
            store.delete(BACKEND)
            raise ValueError("undone")
    except ValueError:
        pass
    _listed_by_kind_matches_everything(store)
    assert [r.key for r in store.list(ResourceKind.BACKEND)] == [BACKEND]
    assert store.list(ResourceKind.NAMED_VALUE) == []

    def refuse_new_backends(events):
        if any(e.key.kind is ResourceKind.BACKEND and e.action == "put" and e.key.name == "west" for e in events):
            raise RuntimeError("cannot load")

    unsubscribe = store.subscribe(refuse_new_backends)
    try:
        with store.transaction():
            store.put(ResourceKey(ResourceKind.BACKEND, "west"), {"url": "https://w"})
            store.delete(BACKEND)
    except RuntimeError:
        pass
    unsubscribe()
    _listed_by_kind_matches_everything(store)
    assert [r.key for r in store.list(ResourceKind.BACKEND)] == [BACKEND]
    reloaded = ResourceStore(tmp_path / "state.json")
    _listed_by_kind_matches_everything(reloaded)
    assert [r.key.name for r in reloaded.list(ResourceKind.OPERATION, parent="api")] == ["op"]
