"""Test data and helpers for the publish tests: small gateway configs, loading them, reading the plane's state."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from toolkit.config import LoadedConfig, load_config
from toolkit.emulator.management import ManagementPlane
from toolkit.publish import Desired, load_desired

SMALL_CONFIG = """\
apis:
  - name: chat
    path: openai
    backend: pool
    retry: {on_status: [429, 503]}
backends:
  - {name: b1, url: "https://b1.example.com/openai",
     circuit_breaker: {count: 3, interval: PT5M, status_codes: [429], trip_duration: PT1M}}
  - {name: b2, url: "https://b2.example.com/openai"}
  - {name: b3, url: "https://b3.example.com/openai"}
pools:
  - name: pool
    members:
      - {backend: b1, priority: 1, weight: 50}
      - {backend: b2, priority: 1, weight: 50}
named_values:
  - {name: greeting, value: hello}
  - {name: api-secret, value: "${SECRET_VALUE}", secret: true}
environments:
  local: {target: local}
"""

# v2 of SMALL_CONFIG: b1's breaker count and the pool change, b2 is gone, b4 is new, the secret changes.
SMALL_CONFIG_V2 = """\
apis:
  - name: chat
    path: openai
    backend: pool
    retry: {on_status: [429, 503]}
backends:
  - {name: b1, url: "https://b1.example.com/openai",
     circuit_breaker: {count: 5, interval: PT5M, status_codes: [429], trip_duration: PT1M}}
  - {name: b3, url: "https://b3.example.com/openai"}
  - {name: b4, url: "https://b4.example.com/openai"}
pools:
  - name: pool
    members:
      - {backend: b1, priority: 1, weight: 30}
      - {backend: b3, priority: 1, weight: 30}
      - {backend: b4, priority: 2}
named_values:
  - {name: greeting, value: hello}
  - {name: api-secret, value: "${SECRET_VALUE}", secret: true}
environments:
  local: {target: local}
"""

SECRET_V1 = "s3cret-VALUE-one-42"
SECRET_V2 = "s3cret-VALUE-two-77"



def make_config(folder: Path, text: str, secret: str = SECRET_V1) -> LoadedConfig:
    """Write ``text`` as toolkit.yaml in ``folder`` (with the repo's templates) and load its local environment."""
    folder.mkdir(parents=True, exist_ok=True)
    templates = folder / "policies"
    if not templates.exists():
        shutil.copytree(Path(__file__).resolve().parents[3] / "policies", templates)
    path = folder / "toolkit.yaml"
    path.write_text(text, encoding="utf-8")
    return load_config(path, "local", environ={"SECRET_VALUE": secret})


def desired_of(config: LoadedConfig, *features: str) -> Desired:
    """The desired state of a config, rendered with the templates beside it."""
    return load_desired(config, features or ("all",), templates_dir=Path(config.path).parent / "policies")



def remote_state(plane: ManagementPlane) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Every stored resource's properties, keyed by (kind, name, parent): the state to compare, without ETags."""
    return {(r.key.kind.value, r.key.name, r.key.parent): r.properties for r in plane.store.all()}


def v1_then_v2(target: Any, tmp_path: Path) -> tuple[Desired, Any]:
    """SMALL_CONFIG applied, then the desired state and plan (with prune) of SMALL_CONFIG_V2."""
    from toolkit.publish import apply_plan, plan_against

    v1 = desired_of(make_config(tmp_path / "v1", SMALL_CONFIG))
    apply_plan(target.client, plan_against(target, v1, env="local"), v1.resources)
    v2 = desired_of(make_config(tmp_path / "v2", SMALL_CONFIG_V2, SECRET_V2))
    return v2, plan_against(target, v2, env="local", prune=True)


def action_index(plan: Any, op: Any, name: str, kind: Any = None) -> int:
    """The position of ``op`` on resource ``name`` (a backend unless ``kind``) among the plan's actions."""
    from toolkit.artifacts.layout import Kind

    kind = Kind.BACKEND if kind is None else kind
    return next(i for i, c in enumerate(plan.actions) if c.op is op and c.ref.kind is kind and c.ref.name == name)
