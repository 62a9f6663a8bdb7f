"""config -> ArtifactSet. Pure apart from reading templates; the caller decides what to write."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from toolkit.artifacts.layout import ArtifactPath
from toolkit.artifacts.model import ArtifactSet, dump_json
from toolkit.config.models import GatewayConfig
from toolkit.errors import TemplateError
from toolkit.render.environment import render_template


def _json(templates_dir: Path, template: str, **context: object) -> str:
    """Render a JSON template and normalise it (so template whitespace never leaks into artifacts)."""
    text = render_template(templates_dir, template, **context)
    try:
        return dump_json(json.loads(text))
    except json.JSONDecodeError as exc:
        raise TemplateError(f"{templates_dir / template}: rendered invalid JSON at line {exc.lineno}: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:  # a number over the 4,300-digit limit, absurd nesting
        raise TemplateError(f"{templates_dir / template}: rendered unusable JSON: {str(exc).split(';')[0]}") from None


def _xml(templates_dir: Path, template: str, **context: object) -> str:
    """Render an XML template and check it is well-formed."""
    text = render_template(templates_dir, template, **context)
    try:
        etree.fromstring(text.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise TemplateError(f"{templates_dir / template}: rendered malformed XML (line {exc.lineno}): {exc.msg}") from None
    return text.rstrip("\n") + "\n"


def render_artifacts(gateway: GatewayConfig, templates_dir: str | Path) -> ArtifactSet:
    """Every artifact of the gateway, rendered from the templates in ``templates_dir``."""
    templates = Path(templates_dir)
    artifacts = ArtifactSet()
    for backend in gateway.backends:
        artifacts.put(ArtifactPath.backend(backend.name), _json(templates, "backend.json.j2", backend=backend))
    for pool in gateway.pools:
        artifacts.put(ArtifactPath.backend(pool.name), _json(templates, "backend-pool.json.j2", pool=pool))
    for api in gateway.apis:
        artifacts.put(ArtifactPath.api(api.name), _json(templates, "api.json.j2", api=api))
        retry_count = gateway.retry_count(api) if api.retry else None
        artifacts.put(ArtifactPath.api_policy(api.name), _xml(templates, "api-policy.xml.j2", api=api, retry_count=retry_count))
    for fragment in gateway.policy_fragments:
        artifacts.put(ArtifactPath.fragment_policy(fragment.name),
                      _xml(templates, fragment.template, gateway=gateway, fragment=fragment))
        artifacts.put(ArtifactPath.fragment(fragment.name), _json(templates, "policy-fragment.json.j2", fragment=fragment))
    for named_value in gateway.named_values:
        artifacts.put(
            ArtifactPath.named_value(named_value.name), _json(templates, "named-value.json.j2", named_value=named_value)
        )
    return artifacts
