"""config -> ArtifactSet. Pure apart from reading templates; the caller decides what to write."""

from __future__ import annotations

import json
from pathlib import Path

from lxml import etree

from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.artifacts.model import ArtifactSet, dump_json
from toolkit.artifacts.specification import operations_of
from toolkit.config.models import ApiConfig, GatewayConfig
from toolkit.errors import ConfigError, TemplateError
from toolkit.render.auth import AuthConfigError, all_named_values, api_auth, backend_credentials
from toolkit.render.environment import render_template
from toolkit.render.specification import render_specification


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


def _put_operation_policies(artifacts: ArtifactSet, templates: Path, gateway: GatewayConfig, api: ApiConfig,
                            index: int, spec_text: str, config_file: str | None) -> None:
    """apis/<api>/operations/<op>/policy.xml for each configured operation policy; the operation must exist."""
    if not api.operation_policies:
        return
    known = {operation.name for operation in operations_of(spec_text)}
    for name, template in sorted(api.operation_policies.items()):
        if name not in known:
            raise ConfigError(f"the API's specification has no operation {name!r} (operations: {', '.join(sorted(known))})",
                              file=config_file, field=f"apis[{index}].operation_policies.{name}")
        artifacts.put(ArtifactPath(Kind.OPERATION_POLICY, name, api.name),
                      _xml(templates, template, gateway=gateway, api=api, operation=name))


def render_artifacts(gateway: GatewayConfig, templates_dir: str | Path, *, config_file: str | None = None,
                     base_dir: str | Path | None = None) -> ArtifactSet:
    """Every artifact of the gateway, rendered from the templates in ``templates_dir``.

    User OpenAPI files (``apis[].spec``) are read relative to ``base_dir`` (default: the parent of
    ``templates_dir``, the project folder); ``config_file`` only names the config in error messages.
    """
    templates = Path(templates_dir)
    artifacts = ArtifactSet()
    try:
        named_values = all_named_values(gateway)
        for backend in gateway.backends:
            artifacts.put(ArtifactPath.backend(backend.name), _json(templates, "backend.json.j2", backend=backend,
                                                                    credentials=backend_credentials(backend)))
        for pool in gateway.pools:
            artifacts.put(ArtifactPath.backend(pool.name), _json(templates, "backend-pool.json.j2", pool=pool))
        for index, api in enumerate(gateway.apis):
            artifacts.put(ArtifactPath.api(api.name), _json(templates, "api.json.j2", api=api))
            spec_path, spec_text = render_specification(api, index, Path(base_dir) if base_dir else templates.parent)
            artifacts.put(spec_path, spec_text)
            _put_operation_policies(artifacts, templates, gateway, api, index, spec_text, config_file)
            retry_count = gateway.retry_count(api) if api.retry else None
            artifacts.put(ArtifactPath.api_policy(api.name), _xml(templates, "api-policy.xml.j2", api=api,
                                                                  retry_count=retry_count,
                                                                  auth=api_auth(gateway, api, index)))
    except AuthConfigError as exc:
        raise ConfigError(str(exc), file=config_file, field=exc.field) from None
    for fragment in gateway.policy_fragments:
        artifacts.put(ArtifactPath.fragment_policy(fragment.name),
                      _xml(templates, fragment.template, gateway=gateway, fragment=fragment))
        artifacts.put(ArtifactPath.fragment(fragment.name), _json(templates, "policy-fragment.json.j2", fragment=fragment))
    for named_value in named_values:
        artifacts.put(
            ArtifactPath.named_value(named_value.name), _json(templates, "named-value.json.j2", named_value=named_value)
        )
    return artifacts
