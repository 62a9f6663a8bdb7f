"""The management plane of the local APIM emulator: the ARM subset azure-mgmt-apimanagement uses.

    plane = ManagementPlane(state_file="state.json")         # store + faults + counters + view
    app = plane.app                                           # Starlette app (serve over TLS, see tls.py)
    plane.view.backend("openai-eastus")                       # what the gateway reads
    plane.store.subscribe(lambda changes: ...)                # rebuild on every published change

Names are imported lazily, so ``toolkit.emulator.management.hooks`` stays cheap to import.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "ArmError": "arm",
    "CallCounters": "counters",
    "ChangeEvent": "store",
    "Fault": "faults",
    "GatewayView": "view",
    "ManagementFaults": "faults",
    "ManagementPlane": "plane",
    "PolicyRejected": "hooks",
    "PolicyScope": "hooks",
    "PolicyValidator": "hooks",
    "Resource": "store",
    "ResourceKey": "store",
    "ResourceKind": "store",
    "ResourceStore": "store",
    "StaticTokenCredential": "credential",
    "SubscriptionInfo": "view",
    "TlsMaterial": "tls",
    "create_management_app": "app",
    "create_tls_material": "tls",
    "management_control_routes": "control",
    "well_formed_policy_validator": "hooks",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return __all__
