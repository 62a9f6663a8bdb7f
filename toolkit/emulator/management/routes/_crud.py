"""Generic GET / HEAD / PUT / PATCH / DELETE / list for one resource kind, driven by a ResourceSpec."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from toolkit.emulator.management.arm import ArmError, check_if_match, envelope, not_found, paged, validation_error
from toolkit.emulator.management.names import NameRule
from toolkit.emulator.management.references import referrers
from toolkit.emulator.management.routes._base import ArmCall, PlaneDeps, arm_endpoint
from toolkit.emulator.management.store import Resource, ResourceKey, ResourceKind


def _props(call: ArmCall, resource: Resource) -> dict[str, Any]:
    return dict(resource.properties)


def _nothing(call: ArmCall, resource: Resource) -> None:
    return None


@dataclass(frozen=True)
class ResourceSpec:
    """How one kind maps onto ARM: paths, names, validation and presentation.

    ``validate(call, key, current)`` returns the properties to store or raises ArmError;
    ``present`` shapes the stored properties for a response (hide secrets, convert formats);
    ``check_parent`` raises 404 when the parent (an API) is missing; ``after_put`` writes what a PUT
    implies (an API's imported operations) inside the PUT's transaction; ``before_delete`` refuses a
    delete (references) and ``after_delete`` cascades, both inside the delete's transaction;
    ``refuse_delete`` refuses a DELETE by its address alone, before the lookup (an API's current revision
    addressed by its revision id). ``name_rule`` is the contract's rule for the name a PUT creates.
    ``patchable``: PATCH (the SDK's ``update`` calls) is served, for kinds whose stored properties are a valid PUT
    body (so a patch merged onto them is validated exactly as that PUT would be); other kinds answer it 501.
    """

    kind: ResourceKind
    arm_type: str
    label: str
    key_of: Callable[[dict[str, str]], ResourceKey]
    path_of: Callable[[ResourceKey], str]
    validate: Callable[[ArmCall, ResourceKey, Resource | None], dict[str, Any]]
    list_of: Callable[[ArmCall], list[Resource]]
    arm_name_of: Callable[[ResourceKey], str] = lambda key: key.name
    present: Callable[[ArmCall, Resource], dict[str, Any]] = _props
    check_parent: Callable[[ArmCall, ResourceKey], None] = lambda call, key: None
    after_put: Callable[[ArmCall, Resource], None] = _nothing
    before_delete: Callable[[ArmCall, Resource], None] = _nothing
    after_delete: Callable[[ArmCall, Resource], None] = _nothing
    refuse_delete: Callable[[ArmCall, ResourceKey], None] = lambda call, key: None
    name_rule: NameRule | None = None
    long_running: bool = False
    deleted_status: int = 200
    patchable: bool = False

    def render(self, call: ArmCall, resource: Resource, *, provisioning: str = "Succeeded") -> dict[str, Any]:
        """The ARM envelope of ``resource`` as this request should see it."""
        props = self.present(call, resource)
        if self.long_running:
            props["provisioningState"] = provisioning
        return envelope(call.service_id + self.path_of(resource.key), self.arm_type, self.arm_name_of(resource.key),
                        props)

    def load(self, call: ArmCall) -> Resource:
        """The resource addressed by the request, or 404."""
        key = self.key_of(call.params)
        self.check_parent(call, key)
        resource = call.deps.store.get(key)
        if resource is None:
            raise not_found(f"{self.label} '{self.arm_name_of(key)}'")
        return resource


def get_one(spec: ResourceSpec, call: ArmCall) -> Response:
    """GET (body + ETag) or HEAD (ETag only)."""
    resource = spec.load(call)
    if call.request.method == "HEAD":
        return Response(status_code=200, headers={"ETag": resource.etag})
    return JSONResponse(spec.render(call, resource), headers={"ETag": resource.etag})


def put_one(spec: ResourceSpec, call: ArmCall) -> Response:
    """Create (201) or replace (200), honouring If-Match; long-running kinds answer ``InProgress`` (the SDK polls)."""
    key = spec.key_of(call.params)
    if spec.name_rule is not None:
        spec.name_rule.check(key.name)
    store = call.deps.store
    with store.transaction():
        spec.check_parent(call, key)
        current = store.get(key)
        check_if_match(current, call.if_match)
        resource = store.put(key, spec.validate(call, key, current))
        spec.after_put(call, resource)
    body = spec.render(call, resource, provisioning="InProgress")
    return JSONResponse(body, status_code=201 if current is None else 200, headers={"ETag": resource.etag})


def patch_one(spec: ResourceSpec, call: ArmCall) -> Response:
    """Update (200): the request's ``properties`` merged onto the stored ones as a JSON merge patch (RFC 7396: a
    member replaces, an object merges, null removes), then validated and stored as a PUT of the result would be;
    404 when absent, If-Match honoured. Long-running kinds answer ``InProgress`` as their PUT does."""
    key = spec.key_of(call.params)
    body = call.body
    if not isinstance(body, dict):
        raise validation_error("properties", "the request body must be a JSON object")
    changes = body.get("properties", {})
    if not isinstance(changes, dict):
        raise validation_error("properties", "must be a JSON object")
    store = call.deps.store
    with store.transaction():
        spec.check_parent(call, key)
        current = store.get(key)
        if current is None:
            raise not_found(f"{spec.label} '{spec.arm_name_of(key)}'")
        check_if_match(current, call.if_match)
        merged = replace(call, body={"properties": merge_patch(dict(current.properties), changes)})
        resource = store.put(key, spec.validate(merged, key, current))
        spec.after_put(merged, resource)
    answer = spec.render(call, resource, provisioning="InProgress")
    return JSONResponse(answer, status_code=200, headers={"ETag": resource.etag})


def merge_patch(target: Any, patch: Any) -> Any:
    """``patch`` applied to ``target`` as RFC 7396 says (a new value; neither argument is changed)."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def delete_one(spec: ResourceSpec, call: ArmCall) -> Response:
    """Delete (``spec.deleted_status``) or 204 when absent; a stale If-Match gives 412."""
    key = spec.key_of(call.params)
    store = call.deps.store
    with store.transaction():
        spec.check_parent(call, key)
        spec.refuse_delete(call, key)
        current = store.get(key)
        if current is None:
            return Response(status_code=204)
        check_if_match(current, call.if_match)
        spec.before_delete(call, current)
        store.delete(key)
        spec.after_delete(call, current)
    return Response(status_code=spec.deleted_status)


def list_all(spec: ResourceSpec, call: ArmCall) -> Response:
    """The ARM collection, paged."""
    if call.query.get("$filter"):
        raise validation_error("$filter", "is not supported by the emulator")
    items = [spec.render(call, resource) for resource in spec.list_of(call)]
    return JSONResponse(paged(items, url=call.url_without_query, query=call.query, page_size=call.deps.page_size))


def crud_routes(spec: ResourceSpec, deps: PlaneDeps, collection_path: str, item_path: str) -> list[Route]:
    """The collection route (GET) and the item route (GET, HEAD, PUT, DELETE, and PATCH when the kind is
    ``patchable``) for ``spec``; a PATCH of another kind falls through to the plane's 501."""

    def item(call: ArmCall) -> Response:
        if call.request.method in ("GET", "HEAD"):
            return get_one(spec, call)
        if call.request.method == "PUT":
            return put_one(spec, call)
        if call.request.method == "PATCH":
            return patch_one(spec, call)
        return delete_one(spec, call)

    kind = spec.kind.value
    methods = ["GET", "HEAD", "PUT", "DELETE"] + (["PATCH"] if spec.patchable else [])
    return [
        Route(collection_path, arm_endpoint(deps, kind, lambda call: list_all(spec, call)), methods=["GET"]),
        Route(item_path, arm_endpoint(deps, kind, item), methods=methods),
    ]


def refuse_if_referenced(call: ArmCall, kind: ResourceKind, target: str, what: str) -> None:
    """400 ValidationError when anything still refers to ``target`` (deleting it would leave a dangling reference)."""
    users = referrers(call.deps.store, kind, target)
    if users:
        raise ArmError(400, "ValidationError", f"{what} is used by {', '.join(users)}; remove the reference first.")
