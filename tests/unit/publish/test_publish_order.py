"""Dependency order: named values, single backends, pools, fragments, APIs, policies; deletes reversed."""

from __future__ import annotations

from toolkit.artifacts.layout import Kind
from toolkit.publish.order import LEVELS, delete_order, level_of, write_order
from toolkit.publish.resources import ResourceRef

POOL_BODY = {"properties": {"type": "Pool"}}
ITEMS = [
    (ResourceRef(Kind.API_POLICY, "a"), None),
    (ResourceRef(Kind.OPERATION_POLICY, "op", "a"), None),
    (ResourceRef(Kind.GLOBAL_POLICY), None),
    (ResourceRef(Kind.API, "a"), None),
    (ResourceRef(Kind.FRAGMENT, "f"), None),
    (ResourceRef(Kind.BACKEND, "pool"), POOL_BODY),
    (ResourceRef(Kind.BACKEND, "z-single"), {"properties": {"type": "Single"}}),
    (ResourceRef(Kind.BACKEND, "a-single"), None),
    (ResourceRef(Kind.NAMED_VALUE, "nv"), None),
]


def test_levels_are_the_documented_order() -> None:
    assert [name for name, _ in LEVELS] == ["named values", "single backends", "pools", "policy fragments",
                                            "version sets", "APIs", "API revisions", "policies"]
    assert level_of(ResourceRef(Kind.BACKEND, "p"), POOL_BODY) > level_of(ResourceRef(Kind.BACKEND, "s"), None)


def test_write_order_and_delete_order() -> None:
    ordered = [ref for ref, _ in write_order(ITEMS, key=lambda item: item)]
    assert [(r.kind.value, r.name) for r in ordered] == [
        ("named-value", "nv"), ("backend", "a-single"), ("backend", "z-single"), ("backend", "pool"),
        ("policy-fragment", "f"), ("api", "a"), ("api-policy", "a"), ("global-policy", ""), ("operation-policy", "op"),
    ]
    assert [ref for ref, _ in delete_order(ITEMS, key=lambda item: item)] == list(reversed(ordered))


def test_concurrent_batches_cut_at_each_level_and_between_writes_and_deletes_and_keep_fragments_serial() -> None:
    from toolkit.publish.order import concurrent_batches

    items = write_order([*ITEMS, (ResourceRef(Kind.FRAGMENT, "g"), None), (ResourceRef(Kind.NAMED_VALUE, "nv2"), None)],
                        key=lambda item: item)
    deletes = [("delete", ResourceRef(Kind.BACKEND, "old1")), ("delete", ResourceRef(Kind.BACKEND, "old2"))]
    everything = [("write", ref) for ref, _ in items] + deletes
    bodies = dict(ITEMS)

    def group(item: tuple[str, ResourceRef]) -> tuple[bool, int]:
        return item[0] == "delete", level_of(item[1], bodies.get(item[1]))

    batches = [[ref.name or ref.kind.value for _, ref in batch] for batch in concurrent_batches(everything, group)]
    assert batches == [["nv", "nv2"], ["a-single", "z-single"], ["pool"], ["f"], ["g"], ["a"],
                       ["a", "global-policy", "op"], ["old1", "old2"]]


def test_a_revision_is_written_after_its_api_never_in_the_same_batch() -> None:
    """`name;rev=2` is refused until `name` exists: parallel writes must not race them."""
    from toolkit.publish.order import concurrent_batches

    items = [(ResourceRef(Kind.API, "a;rev=2"), None), (ResourceRef(Kind.API, "b"), None), (ResourceRef(Kind.API, "a"), None)]
    ordered = write_order(items, key=lambda item: item)
    assert [ref.name for ref, _ in ordered] == ["a", "b", "a;rev=2"]
    batches = concurrent_batches(ordered, lambda item: (False, level_of(*item)))
    assert [[ref.name for ref, _ in batch] for batch in batches] == [["a", "b"], ["a;rev=2"]]
    assert [ref.name for ref, _ in delete_order(items, key=lambda item: item)] == ["a;rev=2", "b", "a"]
