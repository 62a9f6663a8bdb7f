"""Live state -> APIOps tree (what the APIOps extractor writes), to adopt an instance or inspect drift."""

from __future__ import annotations

from toolkit.artifacts.layout import Kind
from toolkit.artifacts.model import ArtifactSet
from toolkit.publish.client import ApimClient
from toolkit.publish.normalize import strip_server_fields
from toolkit.publish.remote import existing_refs
from toolkit.publish.resources import ResourceRef, artifacts_from_resources


def pull_artifacts(client: ApimClient) -> ArtifactSet:
    """Every named value, backend, fragment, version set, API and policy on the target as artifact files.

    Server-only fields are dropped; a secret named value is written without its value (it is never read).
    """
    refs = existing_refs(client) | {ResourceRef(Kind.GLOBAL_POLICY)}
    resources = []
    for ref in sorted(refs):
        live = client.get(ref)
        if live is not None:
            resources.append((ref, strip_server_fields(ref.kind, live.body)))
    return artifacts_from_resources(resources)
