"""README and docs stand alone: links stay inside the repository, the `.env` names claimed are read, the
emulator's control API is documented endpoint by endpoint."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_relative_links_resolve_inside_the_repository() -> None:
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for target in re.findall(r"\]\(([^)#\s]+)", text):
            if re.match(r"[a-z]+:", target):
                continue  # an absolute URL
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(REPO) and path.exists(), f"{doc.name}: {target}"
        for outside in ("../shared", "shared/", "DESIGN.md", "reference/apim-behaviour", "seed notebook", "the seed's"):
            assert outside not in text, f"{doc.name} mentions {outside!r}"


def test_every_env_name_the_readme_claims_is_read_by_the_committed_config() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    claim = readme[readme.index("works as it is:"):readme.index("(the notebook's")]
    names = re.findall(r"`([A-Z][A-Z0-9_]+)`", claim)
    assert len(names) >= 9
    config = (REPO / "toolkit.yaml").read_text(encoding="utf-8")
    assert [name for name in names if "${" + name not in config] == []


def test_every_control_endpoint_is_documented() -> None:
    doc = (REPO / "docs" / "emulator.md").read_text(encoding="utf-8")
    sources = [(REPO / "toolkit/emulator/control.py", ""), (REPO / "toolkit/emulator/management/control.py", "/management")]
    paths = [prefix + path for source, prefix in sources
             for path in re.findall(r'Route\("([^"]+)"', source.read_text(encoding="utf-8"))]
    assert len(paths) >= 14
    for path in paths:
        assert f" {path}`" in doc or f" {path}?" in doc, f"docs/emulator.md does not document {path}"
    for document in ("/issuer/.well-known/openid-configuration", "/issuer/.well-known/jwks.json"):
        assert document in doc
