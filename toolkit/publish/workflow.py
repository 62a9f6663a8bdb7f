"""What the plan, apply and pull verbs share: the desired state (rendered or read from a tree, linted),
a plan against a target, and the checks that a saved plan still fits."""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.artifacts.apiops_config import apply_configuration, configuration_file, load_configuration
from toolkit.artifacts.layout import Kind
from toolkit.config.models import LoadedConfig
from toolkit.errors import InputError, StalePlanError
from toolkit.lint.runner import LintResult
from toolkit.publish.diff import changed_secret_values, compute_plan, desired_digest, secret_values
from toolkit.publish.normalize import DEFAULTS
from toolkit.publish.plan import MISSING, Op, Plan
from toolkit.publish.remote import read_remote
from toolkit.publish.resources import Body, LiveResource, ResourceRef, is_secret, resources_from_artifacts
from toolkit.publish.target import ApimTarget
from toolkit.publish.version_sets import check_version_set_references


@dataclass
class Desired:
    """The resources to publish, where they came from, and the lint result of their tree."""

    resources: dict[ResourceRef, Body]
    features: tuple[str, ...]
    source: str
    lint: LintResult
    unpublished: dict[str, int] = field(default_factory=dict)  # kind -> files of a foreign tree not published

    @property
    def complete(self) -> bool:
        """Whether this is the whole gateway (``all``): only then can the target be compared for extras."""
        return "all" in self.features


def load_desired(config: LoadedConfig, features: Iterable[str] = (), *, templates_dir: str | Path,
                 artifacts_dir: str | Path | None = None) -> Desired:
    """Render the config (or read ``artifacts_dir``), lint the whole tree, keep what ``features`` own."""
    from toolkit.artifacts.io import read_tree
    from toolkit.config.lint_settings import suppressions
    from toolkit.lint.runner import lint_tree
    from toolkit.render import owned_paths, render_artifacts

    accepted = suppressions(config.gateway.lint, config.path)  # lint: ignore: of toolkit.yaml
    chosen = tuple(features) or ("all",)
    secrets = {nv.name: nv.value for nv in _named_values(config) if nv.secret and nv.value}
    if artifacts_dir is not None:
        if "all" not in chosen:
            raise InputError("FEATURE selects rendered files; with --artifacts the whole tree is published",
                             hint="drop the FEATURE arguments (or render and publish without --artifacts)")
        from toolkit.artifacts.foreign import unpublished_files

        tree = read_tree(artifacts_dir)
        unpublished = unpublished_files(artifacts_dir)
        source = str(artifacts_dir)
        overrides = Path(artifacts_dir) / configuration_file(config.env_name)
        if overrides.exists():  # (a folder there is refused) what the APIOps publisher does with CONFIGURATION_YAML_PATH for this environment
            tree = apply_configuration(tree, load_configuration(overrides, os.environ))
            source += f" with {overrides.name}"
            _count_down(unpublished, "APIOps configuration overrides")
        return Desired(resources_from_artifacts(tree, secrets), chosen, source,
                       lint_tree(tree, root_label=str(artifacts_dir), suppressions=accepted), unpublished)
    tree = render_artifacts(config.gateway, templates_dir, config_file=config.path)
    try:
        owned = owned_paths(config.gateway, chosen, tree)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    resources = resources_from_artifacts(tree.subset(owned), secrets)
    return Desired(resources, chosen, f"{config.path} (environment {config.env_name!r})",
                   lint_tree(tree, suppressions=accepted))


def _count_down(counts: dict[str, int], kind: str) -> None:
    counts[kind] -= 1
    if not counts[kind]:
        del counts[kind]


def _named_values(config: LoadedConfig) -> list:
    """The config's named values and the api-key ones its backend ``auth`` implies (a bad auth is refused at render)."""
    from toolkit.render.auth import AuthConfigError, all_named_values

    try:
        return all_named_values(config.gateway)
    except AuthConfigError:
        return list(config.gateway.named_values)


def plan_against(target: ApimTarget, desired: Desired, *, env: str, prune: bool = False) -> Plan:
    """Read the target and compare it with ``desired``; ``prune`` plans deletes of resources it lacks."""
    if prune and not desired.complete:
        raise InputError("--prune compares the whole gateway with the target: use it without FEATURE (or with all)")
    compare = {ref for ref, body in desired.resources.items()
               if ref.kind is Kind.NAMED_VALUE and is_secret(body) and "value" in body["properties"]}
    live = read_remote(target.client, desired.resources, discover=desired.complete, fetch_extra=prune,
                       compare_secrets=compare)
    check_version_set_references(desired.resources, live, target.client, prune=prune)
    plan = compute_plan(desired.resources, live, prune=prune, env=env, target=target.label, features=desired.features)
    _refuse_revision_changes(plan)
    return plan


DEFAULT_REVISION = DEFAULTS[Kind.API]["apiRevision"]


def _refuse_revision_changes(plan: Plan) -> None:
    """A PUT updates an API's current revision; moving to another revision number means creating that revision
    and releasing it (what the APIOps publisher does), which toolkit does not do: say so instead of trying."""
    for change in plan.actions:
        revision = next((f for f in change.fields if f.path == "properties.apiRevision"), None)
        if change.ref.kind is Kind.API and change.op is Op.UPDATE and revision is not None:
            before, after = (DEFAULT_REVISION if v is MISSING else v for v in (revision.before, revision.after))
            raise InputError(f"API '{change.ref.name}' is at revision {before} on the target and the "
                             f"artifacts say {after}: toolkit publishes to the current revision and does "
                             "not create or release revisions",
                             hint="make that revision current in APIM (or with the APIOps publisher) first, "
                                  "or set revision to the current one")


def check_saved_plan(plan: Plan, desired: Desired, target: ApimTarget) -> None:
    """StalePlanError (exit 4, nothing written) unless ``plan`` was made for this target and these artifacts,
    with the same secret values, and every resource it covers is still as it was when the plan was made.

    "Covers": every resource of the plan (the unchanged ones too: the plan says they need no write), and, for a
    plan of the whole gateway, which resources of the kinds it manages exist (one created since, or one it kept or
    deletes that is gone, changes what the plan should be). Compared by ETag, as read when planning.
    """
    if plan.target and plan.target != target.label:
        raise StalePlanError(f"the plan was made for {plan.target}, not {target.label}",
                             hint="run `toolkit plan` against this target")
    if plan.desired_digest != desired_digest(desired.resources):
        raise StalePlanError("the artifacts changed since the plan was made; nothing was written",
                             hint="run `toolkit plan` again and review the changes")
    _check_secret_values(plan, desired)
    live = read_remote(target.client, desired.resources, discover=desired.complete, fetch_extra=plan.prune)
    changed = target_changes(plan, desired.resources, live)
    if changed:
        shown = changed[:_SHOWN] + ([f"and {len(changed) - _SHOWN} more"] if len(changed) > _SHOWN else [])
        raise StalePlanError(f"the target changed since the plan was made; nothing was written: {'; '.join(shown)}",
                             hint="run `toolkit plan` again and review the changes")


_SHOWN = 5  # resources named in the one-line message


def _check_secret_values(plan: Plan, desired: Desired) -> None:
    """The secret values to publish must be the ones the plan was made with (their digests, never the values)."""
    if plan.file_format < 2:
        if secret_values(desired.resources):
            raise StalePlanError(f"the plan file is of format {plan.file_format}, which does not record the secret "
                                 "values it was made with; nothing was written",
                                 hint="run `toolkit plan --out FILE` again with this toolkit")
        return
    changed = changed_secret_values(desired.resources, plan.secret_salt, plan.secret_digests)
    if changed:
        names = ", ".join(f"'{name}'" for name in changed)
        raise StalePlanError(f"the value of secret named value(s) {names} changed since the plan was made; "
                             "nothing was written", hint="run `toolkit plan` again and review the changes")


def target_changes(plan: Plan, desired: dict[ResourceRef, Body], live: dict[ResourceRef, LiveResource]) -> list[str]:
    """How the target (as ``read_remote`` read it for ``desired``) differs from when ``plan`` was made, one
    phrase per resource, in plan order; empty when it does not."""
    found: list[str] = []
    covered = {change.ref for change in plan.changes}
    found += [f"{ref.label} is not in the plan" for ref in sorted(desired) if ref not in covered]
    for change in plan.changes:
        now = live.get(change.ref)
        if change.op is Op.CREATE:
            if now is not None:
                found.append(f"{change.ref.label} was created on the target since the plan")
        elif now is None:
            found.append(f"{change.ref.label} was deleted on the target since the plan")
        elif now.etag != change.etag:
            found.append(f"{change.ref.label} was changed on the target since the plan "
                         f"(ETag {now.etag}, the plan read {change.etag})")
    extras = {ref for ref in live if ref not in desired and ref.kind is not Kind.GLOBAL_POLICY}
    if plan.prune:  # every extra resource is a delete of the plan (those are checked above)
        planned = {change.ref for change in plan.changes if change.op is Op.DELETE}
        found += [f"{ref.label} was created on the target since the plan" for ref in sorted(extras - planned)]
    else:
        kept = set(plan.kept)
        found += [f"{ref.label} was created on the target since the plan" for ref in sorted(extras - kept)]
        found += [f"{ref.label} was deleted on the target since the plan" for ref in sorted(kept - extras)]
    return found
