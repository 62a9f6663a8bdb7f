"""A project on disk (toolkit.yaml, policies/, apimartifacts/) and the render workflow over it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from toolkit.artifacts.confined import ConfinedFolder
from toolkit.artifacts.io import TreeDiff, diff_tree, sync_tree
from toolkit.artifacts.manifest import MANIFEST_NAME, Manifest, read_manifest, removable_stale_files
from toolkit.artifacts.model import ArtifactSet
from toolkit.config import LoadedConfig, load_config
from toolkit.errors import InputError

ARTIFACTS_DIR = "apimartifacts"
TEMPLATES_DIR = "policies"
# Lists every file the last render produced (with its hash), so a resource removed from toolkit.yaml
# has its files removed on the next full render (and nothing hand-written is ever deleted).
MANIFEST = MANIFEST_NAME


@dataclass(frozen=True)
class Project:
    """Where a project's files are: the config, its templates and its artifact folder."""

    config_path: Path
    artifacts_dir: Path

    @classmethod
    def at(cls, config_path: str | Path, artifacts_dir: str | Path | None = None) -> Project:
        """The project of ``config_path``; artifacts default to apimartifacts/ beside it."""
        config = Path(config_path)
        return cls(config, Path(artifacts_dir) if artifacts_dir else config.parent / ARTIFACTS_DIR)

    @property
    def templates_dir(self) -> Path:
        """policies/ beside the config."""
        return self.config_path.parent / TEMPLATES_DIR

    def load(self, env_name: str | None = None) -> LoadedConfig:
        """Load and validate the config for an environment."""
        return load_config(self.config_path, env_name)

    def rendered_manifest(self) -> Manifest:
        """What the previous render wrote (empty when there was none); ArtifactError when unusable."""
        return read_manifest(ConfinedFolder(self.artifacts_dir))

    def manifest_is_current(self, artifacts: ArtifactSet) -> bool:
        """Whether the manifest on disk is exactly the one of ``artifacts``."""
        folder = ConfinedFolder(self.artifacts_dir)
        return folder.read_bytes(MANIFEST) == Manifest.of(artifacts).dump().encode("utf-8")

    def write_manifest(self, artifacts: ArtifactSet) -> None:
        """Record what this render produced."""
        ConfinedFolder(self.artifacts_dir).write(MANIFEST, Manifest.of(artifacts).dump())


@dataclass
class RenderOutcome:
    """What render did (or would do, with --check)."""

    env_name: str
    out_dir: Path
    features: tuple[str, ...]
    artifacts: ArtifactSet
    owned: set[str]
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    diff: TreeDiff = field(default_factory=TreeDiff)
    lint_errors: list[object] = field(default_factory=list)
    lint_report: str = ""


def render_project(
    config_path: str | Path,
    env_name: str | None,
    features: Iterable[str] = (),
    *,
    out_dir: str | Path | None = None,
    check: bool = False,
    apiops: bool = False,
) -> RenderOutcome:
    """Render, lint, then write only the files the features own (or, with ``check``, compare them).

    ``apiops`` renders the environment-free base tree plus ``configuration.<env>.yaml`` overrides.
    """
    from toolkit.lint.formats import to_text
    from toolkit.lint.runner import lint_tree
    from toolkit.render import owned_paths, render_artifacts

    project = Project.at(config_path, out_dir)
    config = project.load(env_name)
    chosen = tuple(features) or ("all",)
    if apiops:
        from toolkit.render.apiops import render_apiops

        if "all" not in chosen:
            raise InputError("--apiops renders the whole tree: drop the FEATURE arguments")
        artifacts = render_apiops(project.config_path, project.templates_dir)
    else:
        artifacts = render_artifacts(config.gateway, project.templates_dir, config_file=config.path)
    owned = owned_paths(config.gateway, chosen, artifacts)
    outcome = RenderOutcome(config.env_name, project.artifacts_dir, chosen, artifacts, owned)

    from toolkit.config.lint_settings import suppressions

    accepted = suppressions(config.gateway.lint, config.path)
    result = lint_tree(artifacts, root_label=str(project.artifacts_dir), suppressions=accepted)
    if result.errors:
        outcome.lint_errors = list(result.errors)
        outcome.lint_report = to_text(result)
        return outcome

    full = "all" in chosen
    manifest = project.rendered_manifest() if full else Manifest()
    stale = manifest.paths() - set(artifacts.paths())
    if check:
        outcome.diff = diff_tree(project.artifacts_dir, artifacts.subset(owned), stale)
        if full and not project.manifest_is_current(artifacts):
            outcome.diff.changed.append(MANIFEST)
        return outcome
    # Refused before anything is written: stale paths that are not render's own, unchanged files.
    folder = ConfinedFolder(project.artifacts_dir)
    removable = set(removable_stale_files(folder, manifest, stale)) if stale else set()
    folder.check(set(owned) | {MANIFEST})
    changes = sync_tree(project.artifacts_dir, artifacts.subset(owned), remove=removable)
    outcome.written, outcome.removed = changes.written, changes.removed
    if not project.manifest_is_current(artifacts):
        project.write_manifest(artifacts)
    return outcome
