"""What publish works on: a resource reference, a live resource with its ETag, and artifact-tree conversion.

A resource body is the ARM body without the envelope: ``{"properties": {...}}``, exactly what an
APIOps information file holds. A policy's body is ``{"properties": {"value": xml, "format": "rawxml"}}``;
a policy fragment joins its information file (description) and its policy.xml (value); an API joins
its information file and its specification (``format``/``value``, imported by APIM as its operations).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from toolkit.artifacts.layout import FRAGMENTS_DIR, POLICY_FILE, ArtifactPath, Kind
from toolkit.artifacts.model import ArtifactSet, dump_json
from toolkit.artifacts.specification import IMPORT_FORMATS
from toolkit.errors import ArtifactError

Body = dict[str, Any]

# Resource kinds publish handles (a fragment's policy.xml is part of the fragment resource).
PUBLISHED_KINDS = (Kind.NAMED_VALUE, Kind.BACKEND, Kind.FRAGMENT, Kind.VERSION_SET, Kind.API, Kind.GLOBAL_POLICY,
                   Kind.API_POLICY, Kind.OPERATION_POLICY)
POLICY_KINDS = frozenset({Kind.GLOBAL_POLICY, Kind.API_POLICY, Kind.OPERATION_POLICY, Kind.FRAGMENT})


# A resource is named exactly as its artifact: one identity for render, lint and publish.
ResourceRef = ArtifactPath


@dataclass(frozen=True)
class LiveResource:
    """A resource as read from the target: its body (envelope removed) and its ETag."""

    ref: ResourceRef
    body: Body
    etag: str | None


def is_secret(body: Mapping[str, Any] | None) -> bool:
    """Whether a named value body is marked secret."""
    return bool(body and (body.get("properties") or {}).get("secret"))


def policy_body(xml: str, description: str | None = None) -> Body:
    """The body of a policy (or, with a description, a fragment) sent as rawxml."""
    properties: dict[str, Any] = {"value": xml, "format": "rawxml"}
    if description is not None:
        properties["description"] = description
    return {"properties": properties}


def resources_from_artifacts(artifacts: ArtifactSet,
                             secret_values: Mapping[str, str] | None = None) -> dict[ResourceRef, Body]:
    """The resources an APIOps tree describes; a secret named value without a value takes it from ``secret_values``."""
    resources: dict[ResourceRef, Body] = {}
    fragment_info: dict[str, Any] = {}
    specifications: dict[str, tuple[ArtifactPath, str]] = {}
    for path, text in artifacts.artifacts():
        if path.kind is Kind.SPECIFICATION:
            specifications[path.name] = (path, text)
        elif path.kind is Kind.FRAGMENT:
            fragment_info[path.name] = _properties(path, text)
        elif path.kind is Kind.FRAGMENT_POLICY:
            resources[ResourceRef(Kind.FRAGMENT, path.name)] = policy_body(text)
        elif path.kind.is_policy:
            resources[ResourceRef(path.kind, path.name, path.parent)] = policy_body(text)
        else:
            body = {"properties": _properties(path, text)}
            if path.resource in resources:  # a version set folder with both the current and the legacy file
                raise ArtifactError(f"{path}: {path.resource.relpath} describes the same version set; keep one")
            if path.kind is Kind.NAMED_VALUE and is_secret(body) and "value" not in body["properties"]:
                value = (secret_values or {}).get(path.name)
                if value is not None:
                    body["properties"]["value"] = value
            resources[ResourceRef(path.kind, path.name)] = body
    for name, (path, text) in specifications.items():
        api = resources.get(ResourceRef(Kind.API, name))
        if api is None:
            raise ArtifactError(f"{path}: a specification without apis/{name}/apiInformation.json beside it")
        # Sent with the API, as the APIOps publisher does: APIM imports it as the API's operations.
        api["properties"].update({"format": IMPORT_FORMATS[path.parent], "value": text})
    for name, info in fragment_info.items():
        ref = ResourceRef(Kind.FRAGMENT, name)
        if ref not in resources:
            raise ArtifactError(f"{FRAGMENTS_DIR}/{name}: policyFragmentInformation.json has no {POLICY_FILE} beside it")
        resources[ref]["properties"].update({k: v for k, v in info.items() if k not in ("value", "format")})
    return resources


def _properties(path: ArtifactPath, text: str) -> dict[str, Any]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArtifactError(f"{path}: not valid JSON (line {exc.lineno}: {exc.msg})") from None
    if document == {}:  # an information file with nothing to set (extractors of other tools write these)
        return {}
    properties = document.get("properties") if isinstance(document, dict) else None
    if not isinstance(properties, dict):
        raise ArtifactError(f"{path}: expected {{\"properties\": {{...}}}}")
    return copy.deepcopy(properties)


def artifacts_from_resources(resources: Iterable[tuple[ResourceRef, Body]]) -> ArtifactSet:
    """The APIOps tree of ``resources`` (as the extractor writes it: secrets without their value)."""
    artifacts = ArtifactSet()
    for ref, body in resources:
        properties = dict(body.get("properties") or {})
        if ref.kind is Kind.FRAGMENT:
            xml = str(properties.pop("value", ""))
            properties.pop("format", None)
            artifacts.put(ArtifactPath(Kind.FRAGMENT_POLICY, ref.name), _xml_text(xml))
            artifacts.put_json(ArtifactPath(Kind.FRAGMENT, ref.name), {"properties": properties})
        elif ref.kind.is_policy:
            artifacts.put(ArtifactPath(ref.kind, ref.name, ref.parent), _xml_text(str(properties.get("value", ""))))
        elif ref.kind is Kind.API:
            _put_api(artifacts, ref.name, properties)
        else:
            if ref.kind is Kind.NAMED_VALUE and properties.get("secret"):
                properties.pop("value", None)
            artifacts.put(ArtifactPath(ref.kind, ref.name), dump_json({"properties": properties}))
    return artifacts


def _put_api(artifacts: ArtifactSet, name: str, properties: dict[str, Any]) -> None:
    """apiInformation.json, and the operations as specification.json (the text sent, else one written from them)."""
    from toolkit.publish.operations import OPERATIONS_FIELD, import_body

    if OPERATIONS_FIELD in properties or "value" in properties:
        sent = import_body({"properties": properties})["properties"]
        file = "specification.yaml" if sent.get("format") == "openapi" else "specification.json"
        artifacts.put(ArtifactPath.specification(name, file), str(sent["value"]).rstrip("\n") + "\n")
    for field in ("operations", "format", "value", "translateRequiredQueryParameters"):
        properties.pop(field, None)
    artifacts.put(ArtifactPath(Kind.API, name), dump_json({"properties": properties}))


def _xml_text(xml: str) -> str:
    return xml.rstrip("\n") + "\n"
