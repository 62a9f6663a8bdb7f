"""--state FILE: what was published survives a restart; the file is replaced atomically and private."""

from __future__ import annotations

import json
import stat

import pytest
from azure.mgmt.apimanagement import models
from toolkit.testing.management_bodies import RG, SVC, raw, single, with_etag

from toolkit.emulator.management import ManagementPlane, PolicyScope
from toolkit.errors import InputError


def _publish(client) -> str:
    _, etag = client.backend.create_or_update(RG, SVC, "east", raw(single()), cls=with_etag)
    client.named_value.begin_create_or_update(RG, SVC, "key", models.NamedValueCreateContract(
        display_name="key", value="sk", secret=True)).result()
    client.policy.create_or_update(RG, SVC, "policy", models.PolicyContract(
        value="<policies><inbound><set-header name='k'><value>{{key}}</value></set-header></inbound></policies>",
        format="rawxml"))
    return etag


def test_state_survives_a_restart(serve, tmp_path):
    state = tmp_path / "state.json"
    _, client = serve(ManagementPlane(state_file=state))
    etag = _publish(client)
    restarted = ManagementPlane(state_file=state)
    _, client2 = serve(restarted)
    backend, etag_after = client2.backend.get(RG, SVC, "east", cls=with_etag)
    assert (backend.url, etag_after) == ("https://east.example.com/openai", etag)
    assert client2.named_value.list_value(RG, SVC, "key").value == "sk"
    assert "{{key}}" in restarted.view.policy_xml(PolicyScope.GLOBAL)


def test_file_is_private_json_without_leftover_temp_files(serve, tmp_path):
    state = tmp_path / "state.json"
    _, client = serve(ManagementPlane(state_file=state))
    _publish(client)
    document = json.loads(state.read_text())
    assert document["version"] == 1
    assert {r["kind"] for r in document["resources"]} == {"backend", "named-value", "global-policy"}
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["state.json"]


def test_deletes_are_persisted(serve, tmp_path):
    state = tmp_path / "state.json"
    _, client = serve(ManagementPlane(state_file=state))
    client.backend.create_or_update(RG, SVC, "east", raw(single()))
    client.backend.delete(RG, SVC, "east", if_match="*")
    assert ManagementPlane(state_file=state).view.backends() == {}


@pytest.mark.parametrize("content", ["{not json", '{"version": 99, "resources": []}',
                                     '{"version": 1, "resources": [{"kind": "nope"}]}',
                                     '{"version": 1, "resources": ' + "[" * 100_000 + "]" * 100_000 + "}",
                                     '{"version": 1, "x": ' + '{"a": ' * 5_000 + "1" + "}" * 5_000 + "}",
                                     '{"version": NaN}', '{"version": 1, "resources": [], "x": "\\ud800"}'])
def test_a_bad_state_file_is_an_input_error_naming_it(tmp_path, content):
    state = tmp_path / "state.json"
    state.write_text(content)
    with pytest.raises(InputError, match="state.json"):
        ManagementPlane(state_file=state)


def test_values_the_fast_encoder_refuses_are_still_saved_exactly(tmp_path):
    """orjson writes the file; an integer beyond 64 bits (valid JSON a PUT may carry) falls back to json."""
    from toolkit.emulator.management.state_file import load_state, save_state
    from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind

    state = tmp_path / "state.json"
    properties = {"url": "https://east.example", "description": "ünïcode", "big": 10**30, "nested": [{"b": 1, "a": 2}]}
    save_state(state, [Resource(ResourceKey(ResourceKind.BACKEND, "east", ""), properties, "etag-1")])
    (loaded,) = load_state(state)
    assert (loaded.key.name, loaded.properties, loaded.etag) == ("east", properties, "etag-1")
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
