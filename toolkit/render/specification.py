"""``apis[].spec`` -> the API's specification artifact (what APIM imports as its operations)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from toolkit.artifacts.layout import ArtifactPath
from toolkit.artifacts.specification import (
    SpecificationError,
    dump_document,
    is_json,
    parse_document,
    wildcard_document,
)
from toolkit.config.models import ApiConfig
from toolkit.errors import ConfigError

BUILTIN_DIR = Path(__file__).with_name("specs")


@lru_cache(maxsize=4)
def builtin_document(name: str) -> str:
    """A description shipped with toolkit (package data), as canonical JSON."""
    text = (BUILTIN_DIR / f"{name}.yaml").read_text(encoding="utf-8")
    return dump_document(parse_document(text))


def render_specification(api: ApiConfig, index: int, base_dir: Path) -> tuple[ArtifactPath, str]:
    """The specification file of ``api``: built in, catch-all, or the user's file (checked, kept as written)."""
    title = api.display_name or api.name
    if api.spec == "wildcard":
        return ArtifactPath.specification(api.name), dump_document(wildcard_document(title))
    if api.spec == "azure-openai-inference":
        return ArtifactPath.specification(api.name), builtin_document(api.spec)
    path = Path(api.spec) if Path(api.spec).is_absolute() else base_dir / api.spec
    field = f"apis[{index}].spec"
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the OpenAPI file: {getattr(exc, 'strerror', None) or exc}",
                          file=str(path), field=field) from None
    try:
        parse_document(text)
    except SpecificationError as exc:
        raise ConfigError(str(exc), file=str(path), line=exc.line, field=field) from None
    file = "specification.json" if is_json(text) else "specification.yaml"
    return ArtifactPath.specification(api.name, file), text.rstrip("\n") + "\n"
