"""Read the live state of the target: one list per listable kind (to find what exists) and one GET per
resource that matters (its body and ETag). Read-only."""

from __future__ import annotations

from collections.abc import Collection, Iterable

from toolkit.artifacts.layout import Kind
from toolkit.publish.client import LISTABLE_KINDS, ApimClient
from toolkit.publish.resources import LiveResource, ResourceRef, is_secret


def existing_refs(client: ApimClient) -> set[ResourceRef]:
    """Every listable resource on the target, plus a (possible) policy per API and per operation."""
    found = {ResourceRef(kind, name) for kind in LISTABLE_KINDS for name in client.list_names(kind)}
    apis = sorted(r.name for r in found if r.kind is Kind.API)
    possible = {ResourceRef(Kind.API_POLICY, api) for api in apis}
    possible |= {ResourceRef(Kind.OPERATION_POLICY, o.name, api) for api in apis for o in client.list_operations(api)}
    return found | possible


def read_remote(
    client: ApimClient,
    wanted: Iterable[ResourceRef],
    *,
    discover: bool,
    fetch_extra: bool = False,
    compare_secrets: Collection[ResourceRef] = (),
) -> dict[ResourceRef, LiveResource]:
    """The live state of ``wanted`` resources.

    With ``discover`` the target is listed first: wanted resources that are not there are not read
    (they will be created), and resources that are there but not wanted are returned too, fully read
    with ``fetch_extra`` (to delete them) or else as bare references (to report them). Secret named
    values in ``compare_secrets`` get their value read (listValue) so it can be compared.
    """
    wanted = set(wanted)
    to_read = set(wanted)
    bare: set[ResourceRef] = set()
    if discover:
        found = existing_refs(client)
        apis = {r.name for r in found if r.kind is Kind.API}
        to_read = {ref for ref in wanted if ref in found or _parent_exists(ref, apis)}
        extra = {ref for ref in found if ref not in wanted}
        if fetch_extra:
            to_read |= extra
        else:
            # Operation policies are not listed: read the possible ones to report only those that exist.
            to_read |= {ref for ref in extra if ref.kind is Kind.OPERATION_POLICY}
            bare = {ref for ref in extra if ref.kind not in (Kind.API_POLICY, Kind.OPERATION_POLICY)}
    live: dict[ResourceRef, LiveResource] = {}
    for ref in sorted(to_read):
        resource = client.get(ref)
        if resource is None:
            continue
        if ref in compare_secrets and is_secret(resource.body):
            resource.body["properties"]["value"] = client.secret_value(ref.name)
        live[ref] = resource
    for ref in bare:
        live[ref] = LiveResource(ref, {}, None)
    return live


def _parent_exists(ref: ResourceRef, apis: set[str]) -> bool:
    """Policies are not listed: the global one may always exist, API and operation ones when their API does."""
    if ref.kind is Kind.GLOBAL_POLICY:
        return True
    if ref.kind is Kind.OPERATION_POLICY:
        return ref.parent in apis
    return False
