"""What the plan, apply and pull verbs share: target options, loading the desired state, opening the target."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

from toolkit.cli._output import info, out

if TYPE_CHECKING:
    from toolkit.config.models import LoadedConfig
    from toolkit.publish.target import ApimTarget
    from toolkit.publish.workflow import Desired

F = TypeVar("F", bound=Callable[..., Any])
AUTH_CHOICES = ("default", "cli", "workload-identity", "client-secret", "managed-identity")


def target_options(func: F) -> F:
    """--management-url, --ca-bundle (local targets) and --auth (Azure targets)."""
    func = click.option("--auth", type=click.Choice(AUTH_CHOICES), default=None,
                        help="Azure credential (default: the environment's auth, else DefaultAzureCredential).")(func)
    func = click.option("--ca-bundle", "ca_bundle", default=None, envvar="TOOLKIT_CA_BUNDLE",
                        type=click.Path(dir_okay=False, exists=True),
                        help="CA bundle (PEM) the local emulator's TLS certificate chains to.")(func)
    return click.option("--management-url", "management_url", default=None, envvar="TOOLKIT_MANAGEMENT_URL",
                        help="Management API of a local emulator (https://127.0.0.1:PORT).")(func)


def artifacts_option(func: F) -> F:
    """--artifacts DIR: publish an existing APIOps tree instead of rendering toolkit.yaml."""
    return click.option("--artifacts", "artifacts_dir", default=None, type=click.Path(file_okay=False, exists=True),
                        help="Publish this APIOps tree (e.g. one written by `toolkit pull`) instead of rendering.")(func)


def load_for_publish(config_path: str, env_name: str | None, features: tuple[str, ...],
                     artifacts_dir: str | None) -> tuple[LoadedConfig, Desired]:
    """Load the config and the desired state; exit 1 with the findings when the tree has lint errors.

    With ``artifacts_dir``, errors about a resource the tree names but does not hold (``Finding.on_target``)
    wait for :func:`check_on_target`; a rendered tree gets no such allowance.
    """
    from toolkit.lint.formats import suppression_lines, to_text
    from toolkit.project import Project
    from toolkit.publish.workflow import load_desired

    project = Project.at(config_path)
    config = project.load(env_name)
    desired = load_desired(config, features, templates_dir=project.templates_dir, artifacts_dir=artifacts_dir)
    from toolkit.artifacts.foreign import describe

    for line in describe(desired.unpublished):
        info(line)
    blocking = [f for f in desired.lint.errors if artifacts_dir is None or f.on_target is None]
    if blocking:
        out(to_text(desired.lint))
        info(f"refused: {desired.source} has {len(blocking)} lint error(s); nothing was read or written")
        raise click.exceptions.Exit(1)
    for line in suppression_lines(desired.lint):
        info(f"lint: {line}")
    return config, desired


def check_on_target(target: ApimTarget, desired: Desired) -> None:
    """Accept the lint errors about resources the tree names but lacks when the target has them; exit 1,
    before anything is written, when one is on neither."""
    from toolkit.publish.target_references import resolve_on_target

    present, missing = resolve_on_target(target.client, [f for f in desired.lint.errors if f.on_target])
    for finding, note in present:
        info(f"accepted: {finding.file}:{finding.line}: {finding.code}: {note} on {target.label}")
    if missing:
        for finding, reason in missing:
            out(f"{finding.file}:{finding.line}: {finding.code} error: {finding.message}; {reason}")
        info(f"refused: {len(missing)} reference(s) of {desired.source} are neither in the tree nor on "
             f"{target.label}; nothing was written")
        raise click.exceptions.Exit(1)


def open_target(config: LoadedConfig, management_url: str | None, ca_bundle: str | None,
                auth: str | None) -> ApimTarget:
    """Connect to the environment's target (credentials are checked here, within 10 s)."""
    from toolkit.publish.target import connect_target

    needs = ("subscription_id", "resource_group", "service") if config.environment.target == "azure" else ()
    return connect_target(config.require(*needs), management_url=management_url, ca_bundle=ca_bundle, auth=auth)
