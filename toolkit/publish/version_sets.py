"""API version sets as publish sees them: an API's ``apiVersionSetId`` names its set by the id's last segment.

A tree extracted from one APIM instance holds that instance's full ARM id (often still with the
extractor's ``{SUBSCRIPTION_ID}``). The APIOps publisher points it at the target's version set of that
name, and so does toolkit when it writes an API (:func:`in_version_set_of`); plans compare the name
only (:mod:`toolkit.publish.normalize`), so a pulled tree, which holds the target's ids, plans no change.
An API naming a version set that is neither in the tree nor on the target is refused before anything
is written (:func:`check_version_set_references`), naming the file and the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from toolkit.artifacts.arm_ids import version_set_id, version_set_name
from toolkit.artifacts.layout import ArtifactPath, Kind
from toolkit.errors import ArtifactError
from toolkit.publish.resources import Body, LiveResource, ResourceRef

if TYPE_CHECKING:
    from toolkit.publish.client import ApimClient

FIELD = "apiVersionSetId"


def _set_id_of(body: Mapping[str, Any]) -> Any:
    return (body.get("properties") or {}).get(FIELD)


def in_version_set_of(body: Body, service_id: str) -> Body:
    """``body`` with its ``apiVersionSetId`` pointing at the version set of the same name in ``service_id``
    (unchanged when it has none, or one that is not a version set id: the target judges that)."""
    current = _set_id_of(body)
    name = version_set_name(current) if isinstance(current, str) else None
    if name is None:
        return body
    return {**body, "properties": {**body["properties"], FIELD: version_set_id(service_id, name)}}


def check_version_set_references(desired: Mapping[ResourceRef, Body], live: Mapping[ResourceRef, LiveResource],
                                 client: ApimClient, *, prune: bool = False) -> None:
    """ArtifactError (exit 3) for the first API whose version set is neither in ``desired`` nor on the target
    (or, with ``prune``, only on the target: the plan would delete the set the API keeps belonging to).

    ``live`` is what planning read (it lists the target's version sets when the whole gateway is compared);
    a set found in neither is looked up on the target once.
    """
    looked_up: dict[str, bool] = {}
    for ref, body in sorted(desired.items()):
        current = _set_id_of(body) if ref.kind is Kind.API else None
        if current is None:
            continue
        where = f"{ArtifactPath.api(ref.name).relpath}: properties.{FIELD}"
        name = version_set_name(current) if isinstance(current, str) else None
        if name is None:
            raise ArtifactError(f"{where}: {current!r} is not a version set id",
                                hint="use the version set's ARM id, ending in /apiVersionSets/<name>")
        wanted = ResourceRef(Kind.VERSION_SET, name)
        if wanted in desired:
            continue
        if prune and wanted in live:
            raise ArtifactError(f"{where} names version set '{name}', which is on the target but not in the tree: "
                                "--prune would delete it while this API still belongs to it; nothing was written",
                                hint=f"add {ArtifactPath.version_set(name).relpath} (`toolkit pull` writes it)")
        if wanted in live:
            continue
        if name not in looked_up:
            looked_up[name] = client.get(wanted) is not None
        if not looked_up[name]:
            raise ArtifactError(
                f"{where} names version set '{name}', which is neither in the tree "
                f"({ArtifactPath.version_set(name).relpath}) nor on the target; nothing was written",
                hint="add the version set to the tree (`toolkit pull` writes the target's), or create it first")
