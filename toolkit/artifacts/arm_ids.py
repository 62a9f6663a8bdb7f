"""Resource names in ARM ids: the backends a pool lists, the version set an API belongs to (one parser for the
publisher, the emulator and its gateway)."""

from __future__ import annotations

import re

_SERVICE_ID = r"/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft\.ApiManagement/service/[^/]+"
# The optional middle group is the doubled form many public Bicep samples build,
# '<service id>/backends/${backend.id}' (the backend's full id after '/backends/'), which those samples deploy to APIM.
_MEMBER_ID = re.compile(rf"^(?:{_SERVICE_ID})?(?:/backends/{_SERVICE_ID})?/backends/([^/]+)/?$", re.IGNORECASE)


def pool_member_name(member_id: str) -> str | None:
    """The backend name in a pool member id (``/backends/x``, a full ARM id, or the doubled form), else None."""
    match = _MEMBER_ID.match(member_id.strip())
    return match.group(1) if match else None


_VERSION_SET_ID = re.compile(rf"^(?:{_SERVICE_ID})?/apiVersionSets/([^/]+)/?$", re.IGNORECASE)


def version_set_name(version_set_id: str) -> str | None:
    """The version set name in an API's ``apiVersionSetId`` (a full ARM id, of any service, or
    ``/apiVersionSets/<name>``), else None."""
    match = _VERSION_SET_ID.match(version_set_id.strip())
    return match.group(1) if match else None


def version_set_id(service_id: str, name: str) -> str:
    """The ARM id of version set ``name`` in the service whose ARM id is ``service_id``."""
    return f"{service_id.rstrip('/')}/apiVersionSets/{name}"
