"""The YAML reader and the error report of the loader: merge keys, typing of ${VAR}, every problem listed."""

from __future__ import annotations

from pathlib import Path

import pytest

from toolkit.config import load_config
from toolkit.config.yaml_reader import MAX_VALUES, Positions, read_yaml, typed_like_yaml
from toolkit.errors import ConfigError

BASE = (Path(__file__).parents[2] / "fixtures" / "config" / "valid-base.yaml").read_text(encoding="utf-8")

ANCHORED = """\
apis: []
backends:
  - name: east
    url: https://east.openai.azure.com
    circuit_breaker: &breaker
      count: 3
      interval: PT5M
      status_codes: [429]
      trip_duraton: PT1M
  - name: west
    url: https://west.openai.azure.com
    circuit_breaker: *breaker
  - name: north
    url: https://north.openai.azure.com
    circuit_breaker: *breaker
environments:
  local: {target: local}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_merge_key_copies_the_anchor_and_explicit_keys_win() -> None:
    positions = Positions()
    data = read_yaml("base: &b {count: 3, interval: PT5M}\nrule:\n  <<: *b\n  count: 5\n", "f.yaml", positions)
    assert data["rule"] == {"count": 5, "interval": "PT5M"}
    assert positions.locate(("rule", "interval"), "f.yaml") == ("f.yaml", 1)
    assert positions.locate(("rule", "count"), "f.yaml") == ("f.yaml", 4)


def test_merge_key_list_earlier_mappings_win() -> None:
    text = "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n"
    assert read_yaml(text, "f.yaml", Positions())["c"] == {"x": 1, "y": 2}


def test_merge_key_in_a_config_gives_the_same_model_as_writing_it_out(tmp_path: Path) -> None:
    merged = BASE.replace(
        "    circuit_breaker: {count: 3, interval: PT5M, status_codes: [429], trip_duration: PT1M}",
        "    circuit_breaker: &rule {count: 3, interval: PT5M, status_codes: [429], trip_duration: PT1M}",
    ).replace("    region: West US", "    region: West US\n    circuit_breaker: {<<: *rule, count: 5}")
    config = load_config(_write(tmp_path, merged), environ={})
    west = config.gateway.backend("west").circuit_breaker
    east = config.gateway.backend("east").circuit_breaker
    assert west is not None and east is not None
    assert (west.count, west.interval, west.trip_duration) == (5, "PT5M", "PT1M")
    assert east.count == 3


def test_alias_expansion_is_bounded() -> None:
    # 10 levels of 10 aliases: 10**10 values if expanded.
    lines = ["l0: &l0 [1,2,3,4,5,6,7,8,9,10]"]
    lines += [f"l{i}: &l{i} [" + ",".join([f"*l{i - 1}"] * 10) + "]" for i in range(1, 10)]
    with pytest.raises(ConfigError) as caught:
        read_yaml("\n".join(lines), "f.yaml", Positions())
    assert f"more than {MAX_VALUES:,} values" in caught.value.reason


def test_aliases_below_the_bound_still_expand() -> None:
    data = read_yaml("a: &a [1, 2]\nb: [*a, *a]\n", "f.yaml", Positions())
    assert data["b"] == [[1, 2], [1, 2]]


def test_unquoted_variable_is_typed_like_yaml_and_quoted_stays_text(tmp_path: Path) -> None:
    member = "      - {backend: east, priority: 1, weight: 50}"
    text = BASE.replace(member, "      - backend: east\n        priority: 1\n        weight: ${EAST_WEIGHT}")
    config = load_config(_write(tmp_path, text), environ={"EAST_WEIGHT": "40"})
    assert config.gateway.pools[0].members[0].weight == 40
    quoted = BASE.replace(member, '      - {backend: east, priority: 1, weight: "${EAST_WEIGHT}"}')
    with pytest.raises(ConfigError) as caught:
        load_config(_write(tmp_path, quoted), environ={"EAST_WEIGHT": "40"})
    assert caught.value.location.field == "pools[0].members[0].weight"


@pytest.mark.parametrize(("text", "expected"), [("50", 50), ("0.5", 0.5), ("true", True), ("abc", "abc"),
                                                  (".nan", ".nan"), ("2024-01-01", "2024-01-01"), ("", None)])
def test_typed_like_yaml(text: str, expected: object) -> None:
    assert typed_like_yaml(text) == expected


def test_interpolated_control_character_is_refused_at_the_config_field(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("region: West US", "region: ${REGION}"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={"REGION": "West\x07US"})
    assert (caught.value.location.file, caught.value.location.line) == (str(path), 15)
    assert caught.value.location.field == "backends[1].region"
    assert "U+0007" in caught.value.reason


def test_control_character_is_reported_at_the_config_line_not_a_template(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("region: West US", 'region: "West\\x1bUS"'))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.location.file == str(path) and caught.value.location.line == 15


def test_misspelt_key_inside_an_anchor_names_the_key_the_fix_and_every_place(tmp_path: Path) -> None:
    path = _write(tmp_path, ANCHORED)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    error = caught.value
    assert error.location.line == 9
    assert error.reason.startswith("unknown key 'trip_duraton' (did you mean 'trip_duration'?)")
    # The same line reached through the alias at the two other backends is named, not counted.
    assert "backends[1].circuit_breaker.trip_duraton" in error.reason
    assert "backends[2].circuit_breaker.trip_duraton" in error.reason
    assert "required field" not in error.reason and "more error" not in error.reason


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    text = BASE.replace("weight: 50}\n      - {backend: west", "weight: 150}\n      - {backend: west").replace(
        "score_threshold: 0.05", "score_threshold: 5").replace("region: West US", "regoin: West US")
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    message = str(caught.value)
    assert f"{path}:6: apis[0].semantic_cache.score_threshold" in message
    assert f"{path}:15: backends[1].regoin: unknown key 'regoin' (did you mean 'region'?)" in message
    assert f"{path}:21: pools[0].members[0].weight" in message


def test_names_differing_only_in_case_name_both_lines(tmp_path: Path) -> None:
    text = BASE.replace("  - name: west\n", "  - name: EAST\n").replace("backend: west", "backend: EAST")
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.location.line == 13 and caught.value.location.field == "backends[1].name"
    assert f"(first at {path}:9)" in caught.value.reason


def test_two_apis_on_one_path_ignoring_case_and_slashes(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE.replace("\nbackends:", "\n  - {name: chat2, path: /OpenAI/, backend: pool}\nbackends:"))
    with pytest.raises(ConfigError) as caught:
        load_config(path, environ={})
    assert caught.value.location.field == "apis[1].path"
    assert f"first at {path}:3" in caught.value.reason


def test_distinct_names_and_paths_pass(tmp_path: Path) -> None:
    text = BASE.replace("\nbackends:", "\n  - {name: chat2, path: openai2, backend: pool}\nbackends:")
    assert [a.path for a in load_config(_write(tmp_path, text), environ={}).gateway.apis] == ["openai", "openai2"]
