"""GatewayView: what the gateway reads from the published state (backends, policies, named values, keys)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from toolkit.emulator.management.hooks import PolicyScope
from toolkit.emulator.management.store import ResourceKey, ResourceKind, ResourceStore
from toolkit.emulator.management.validate_subscription import scope_api


@dataclass(frozen=True)
class SubscriptionInfo:
    """A subscription as the gateway needs it: ``api`` is "" for all APIs; only ``state == "active"`` keys work."""

    name: str
    display_name: str
    scope: str
    api: str
    state: str
    key_slot: str  # "primary" or "secondary": which key matched

    @property
    def active(self) -> bool:
        """Whether the subscription's keys are accepted."""
        return self.state == "active"

    def covers(self, api: str) -> bool:
        """Whether this subscription's scope includes API ``api``."""
        return self.api in ("", api)


class GatewayView:
    """Read-only queries over a ResourceStore (each call reads the current state)."""

    def __init__(self, store: ResourceStore) -> None:
        self._store = store

    def backend(self, name: str) -> dict[str, Any] | None:
        """Properties of backend (or pool) ``name``."""
        resource = self._store.get(ResourceKey(ResourceKind.BACKEND, name))
        return resource.properties if resource is not None else None

    def backends(self) -> dict[str, dict[str, Any]]:
        """Every backend's properties by name."""
        return {r.key.name: r.properties for r in self._store.list(ResourceKind.BACKEND)}

    def api(self, name: str) -> dict[str, Any] | None:
        """Properties of API ``name`` (with APIM's defaults filled in)."""
        resource = self._store.get(ResourceKey(ResourceKind.API, name))
        return resource.properties if resource is not None else None

    def apis(self) -> dict[str, dict[str, Any]]:
        """Every API's properties by name (its current revision: the gateway serves no other)."""
        return {r.key.name: r.properties for r in self._store.list(ResourceKind.API) if _served(r.properties)}

    def served_api(self, name: str) -> dict[str, Any] | None:
        """Properties of API ``name`` when the gateway serves it (a current revision), else None."""
        properties = self.api(name)
        return properties if properties is not None and _served(properties) else None

    def policy_xml(self, scope: PolicyScope, api: str | None = None, operation: str | None = None) -> str | None:
        """The rawxml policy at the global, API (``api``) or operation (``api`` + ``operation``) scope."""
        if scope is PolicyScope.GLOBAL:
            key = ResourceKey(ResourceKind.GLOBAL_POLICY)
        elif scope is PolicyScope.API and api:
            key = ResourceKey(ResourceKind.API_POLICY, api)
        elif scope is PolicyScope.OPERATION and api and operation:
            key = ResourceKey(ResourceKind.OPERATION_POLICY, operation, api)
        else:
            raise ValueError(f"policy_xml: {scope.value} scope needs api/operation names, or use fragment_xml")
        resource = self._store.get(key)
        return str(resource.properties["value"]) if resource is not None else None

    def operations(self, api: str) -> dict[str, dict[str, Any]]:
        """Operations of API ``api`` by name (method, urlTemplate, templateParameters, ...)."""
        return {r.key.name: r.properties for r in self._store.list(ResourceKind.OPERATION, api)}

    def operation_policies(self, api: str) -> dict[str, str]:
        """Rawxml operation policies of API ``api`` by operation name."""
        return {r.key.name: str(r.properties["value"]) for r in self._store.list(ResourceKind.OPERATION_POLICY, api)}

    def fragment_xml(self, name: str) -> str | None:
        """The rawxml ``<fragment>`` document of policy fragment ``name``."""
        resource = self._store.get(ResourceKey(ResourceKind.FRAGMENT, name))
        return str(resource.properties["value"]) if resource is not None else None

    def named_values(self) -> dict[str, str]:
        """Named value values by display name (the name ``{{...}}`` references use), secrets included."""
        return {str(r.properties["displayName"]): str(r.properties["value"])
                for r in self._store.list(ResourceKind.NAMED_VALUE)}

    def subscriptions(self) -> list[SubscriptionInfo]:
        """Every subscription (key slot reported as "primary")."""
        return [self._info(r.key.name, r.properties, "primary") for r in self._store.list(ResourceKind.SUBSCRIPTION)]

    def subscription_for_key(self, key: str) -> SubscriptionInfo | None:
        """The subscription holding ``key`` as its primary or secondary key, whatever its state."""
        if not key:
            return None
        for resource in self._store.list(ResourceKind.SUBSCRIPTION):
            for slot in ("primary", "secondary"):
                if resource.properties.get(f"{slot}Key") == key:
                    return self._info(resource.key.name, resource.properties, slot)
        return None

    @staticmethod
    def _info(name: str, props: dict[str, Any], slot: str) -> SubscriptionInfo:
        scope = str(props.get("scope", ""))
        return SubscriptionInfo(name, str(props.get("displayName", "")), scope, scope_api(scope) or "",
                                str(props.get("state", "")), slot)


def _served(api_properties: dict[str, Any]) -> bool:
    """Whether the gateway serves an API: only current revisions are (``name;rev=N`` ones are stored only)."""
    return bool(api_properties.get("isCurrent", True))
