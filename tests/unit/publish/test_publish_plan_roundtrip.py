"""A saved plan reads back as the same plan: secret flags, prune, kept, features and defaults (mutation gaps)."""

from __future__ import annotations

import json

import pytest

from toolkit.artifacts.layout import Kind
from toolkit.errors import InputError
from toolkit.publish.errors import SECRET_MASK
from toolkit.publish.plan import MISSING, Change, FieldChange, Op, Plan
from toolkit.publish.resources import ResourceRef

NV = ResourceRef(Kind.NAMED_VALUE, "key")
API = ResourceRef(Kind.API, "chat")


def _plan(*, prune: bool) -> Plan:
    return Plan(
        [Change(Op.UPDATE, NV, (FieldChange("properties.value", SECRET_MASK, SECRET_MASK, secret=True),
                                FieldChange("properties.tags", MISSING, ["a"])), '"e1"', secret=True),
         Change(Op.DELETE, API, etag='"e2"', secret=False)],
        env="dev", target="local", features=("apis", "backends"), prune=prune,
        kept=[] if prune else [ResourceRef(Kind.BACKEND, "old")], desired_digest="d" * 64)


@pytest.mark.parametrize("prune", [True, False])
def test_a_plan_survives_its_json_file(prune: bool) -> None:
    plan = _plan(prune=prune)
    document = json.loads(json.dumps(plan.to_json()))
    assert document["prune"] is prune
    assert document["changes"][0]["secret"] is True and document["changes"][0]["fields"][0]["secret"] is True
    assert "secret" not in document["changes"][1] and "secret" not in document["changes"][0]["fields"][1]
    again = Plan.from_json(document)
    assert again == plan
    assert again.changes[0].secret and again.changes[0].fields[0].secret
    assert not again.changes[1].secret and not again.changes[0].fields[1].secret


def test_a_minimal_plan_document_reads_with_the_defaults() -> None:
    plan = Plan.from_checked_json({"changes": []})
    assert (plan.env, plan.target, plan.features, plan.prune, plan.kept, plan.desired_digest) == (
        "", "", ("all",), False, [], "")


def test_find_answers_none_for_a_resource_outside_the_plan() -> None:
    plan = _plan(prune=True)
    assert plan.find(API) is plan.changes[1]
    assert plan.find(ResourceRef(Kind.API, "other")) is None


def test_an_absent_value_shows_as_absent() -> None:
    assert repr(MISSING) == "(absent)"


def test_a_document_that_is_not_a_plan_names_the_plan() -> None:
    with pytest.raises(InputError) as info:
        Plan.from_json(["not", "a", "plan"])
    assert str(info.value).startswith("plan")


def test_a_plans_secret_digests_and_format_survive_its_json_file() -> None:
    plan = _plan(prune=True)
    plan.secret_salt, plan.secret_digests = "ab" * 16, {"key": "cd" * 32, "another": "ef" * 32}
    document = json.loads(json.dumps(plan.to_json()))
    assert document["format"] == 2
    assert document["secret_values"] == {"salt": "ab" * 16, "digests": {"another": "ef" * 32, "key": "cd" * 32}}
    again = Plan.from_json(document)
    assert (again.secret_salt, again.secret_digests, again.file_format) == ("ab" * 16, plan.secret_digests, 2)


def test_a_format_1_plan_reads_with_no_secret_digests() -> None:
    document = json.loads(json.dumps(_plan(prune=True).to_json()))
    del document["secret_values"]
    document["format"] = 1
    again = Plan.from_json(document)
    assert (again.secret_salt, again.secret_digests, again.file_format) == ("", {}, 1)
