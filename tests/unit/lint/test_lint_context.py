"""LintContext lookups and JSON line numbers."""

from __future__ import annotations

import json

from toolkit.artifacts.model import ArtifactSet
from toolkit.lint.core import LintContext, Scope, integer, number
from toolkit.lint.jsonlines import key_lines, line_of
from toolkit.lint.views import member_backend_name

ARM = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ApiManagement/service/apim"


def context() -> LintContext:
    return LintContext(
        ArtifactSet(
            {
                "backends/pool/backendInformation.json": json.dumps(
                    {"properties": {"type": "Pool", "pool": {"services": [{"id": f"{ARM}/backends/a"}, {"id": "/backends/B"}]}}}
                ),
                "backends/a/backendInformation.json": '{"properties": {"url": "https://a.example.com"}}',
                "backends/b/backendInformation.json": '{"properties": {"url": "https://b.example.com"}}',
                "backends/broken/backendInformation.json": "{",
                "named values/plain/namedValueInformation.json": '{"properties": {"displayName": "Plain-Name", "value": "pool"}}',
                "named values/secret/namedValueInformation.json": '{"properties": {"displayName": "secret", "value": "x", "secret": true}}',
                "policy fragments/f/policy.xml": "<fragment><base /></fragment>",
                "apis/api/operations/op/policy.xml": "<policies><inbound /></policies>",
            }
        ),
        root_label="out/",
    )


def test_member_ids_resolve_to_their_last_segment() -> None:
    assert member_backend_name(f"{ARM}/backends/aoai-eastus") == "aoai-eastus"
    assert member_backend_name("/backends/aoai-eastus/") == "aoai-eastus"
    assert member_backend_name("aoai-eastus") == "aoai-eastus"


def test_backend_lookups() -> None:
    ctx = context()
    assert ctx.pool_size("pool") == 2 and ctx.pool_size(f"{ARM}/backends/pool") == 2
    assert ctx.pool_size("a") is None and ctx.pool_size("missing") is None
    assert ctx.backend("/backends/b") is not None and ctx.backend("B").name == "b"  # type: ignore[union-attr]
    assert ctx.backend_exists("broken") and ctx.backend("broken") is None
    assert not ctx.backend_exists("missing")
    assert ctx.backend_names() == ["a", "b", "pool"]
    assert [m.backend for m in ctx.backend("pool").members] == ["a", "B"]  # type: ignore[union-attr]
    assert [p.file for p in ctx.problems] == ["out/backends/broken/backendInformation.json"]


def test_named_values_resolve_by_name_or_display_name() -> None:
    ctx = context()
    assert ctx.resolve("{{plain}}") == "pool" and ctx.resolve("{{plain-name}}-x") == "pool-x"
    assert ctx.resolve("{{secret}}") is None and ctx.resolve("{{unknown}}") is None
    assert ctx.resolve("@(context.Variables[\"x\"])") is None
    assert ctx.resolve("literal") == "literal" and ctx.resolve(None) is None
    assert ctx.named_value_exists("SECRET") and not ctx.named_value_exists("other")


def test_policy_scopes() -> None:
    ctx = context()
    assert {(p.scope, p.name) for p in ctx.policies} == {(Scope.FRAGMENT, "f"), (Scope.OPERATION, "op")}
    assert set(ctx.fragments) == {"f"}


def test_json_key_lines() -> None:
    text = '{\n  "properties": {\n    "pool": {\n      "services": [\n        {"id": "x", "weight": 1},\n        {\n          "id": "y"\n        }\n      ]\n    },\n    "s": "a\\"b{["\n  }\n}\n'
    lines = key_lines(text)
    assert json.loads(text)["properties"]["s"] == 'a"b{['
    assert lines[("properties",)] == 2
    assert lines[("properties", "pool", "services", 0, "weight")] == 5
    assert lines[("properties", "pool", "services", 1)] == 6
    assert lines[("properties", "pool", "services", 1, "id")] == 7
    assert lines[("properties", "s")] == 11
    assert line_of(lines, ("properties", "pool", "services", 1, "priority")) == 6
    assert line_of(lines, ("nothing",)) == 1
    assert key_lines("") == {}


def test_number_helpers() -> None:
    assert number(" 0.05 ") == 0.05 and number("nan") is None and number("inf") is None and number(None) is None
    assert integer(3) == 3 and integer(3.0) == 3 and integer(2.5) is None and integer(True) is None and integer("3") is None
