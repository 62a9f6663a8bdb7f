"""Publish: read the live APIM state, diff it with the artifacts, plan, apply (with rollback), pull.

    target = connect_target(config.environment, management_url=..., ca_bundle=...)   # or Azure
    desired = load_desired(config, ["all"], templates_dir="policies")
    plan = plan_against(target, desired, env=config.env_name)                         # reads only
    outcome = apply_plan(target.client, plan, desired.resources)                       # writes, rolls back on failure
    plan = read_plan_file("plan.json")                                               # a saved plan, checked

Only ``publish.client`` imports the Azure SDK (inside functions), so importing this package is cheap.
"""

from __future__ import annotations

from toolkit.publish.apply import ApplyFailed, ApplyInterrupted, ApplyOutcome, apply_plan
from toolkit.publish.client import ApimClient, ClientSettings
from toolkit.publish.diff import compute_plan, field_changes
from toolkit.publish.normalize import canonical_xml, normalize
from toolkit.publish.order import LEVELS, level_of
from toolkit.publish.plan import Change, FieldChange, Op, Plan
from toolkit.publish.plan_file import read_plan_file
from toolkit.publish.plan_text import render_plan
from toolkit.publish.pull import pull_artifacts
from toolkit.publish.resources import LiveResource, ResourceRef
from toolkit.publish.retry import RetryPolicy
from toolkit.publish.target import ApimTarget, connect_target
from toolkit.publish.workflow import Desired, check_saved_plan, load_desired, plan_against

__all__ = [
    "LEVELS",
    "ApimClient",
    "ApimTarget",
    "ApplyFailed",
    "ApplyInterrupted",
    "ApplyOutcome",
    "Change",
    "ClientSettings",
    "Desired",
    "FieldChange",
    "LiveResource",
    "Op",
    "Plan",
    "ResourceRef",
    "RetryPolicy",
    "apply_plan",
    "canonical_xml",
    "check_saved_plan",
    "compute_plan",
    "connect_target",
    "field_changes",
    "level_of",
    "load_desired",
    "normalize",
    "plan_against",
    "pull_artifacts",
    "read_plan_file",
    "render_plan",
]
