"""ManagementPlane: the store, faults, counters, gateway view and ASGI app of one emulated APIM service.

Every call needs ``Authorization: Bearer <plane.token>`` (a random token per plane unless one is given),
a loopback ``Host`` and no cross-site origin; bodies are limited (see :mod:`toolkit.emulator.request_guard`).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from toolkit.emulator.access import new_token
from toolkit.emulator.management.arm import DEFAULT_PAGE_SIZE
from toolkit.emulator.management.counters import CallCounters
from toolkit.emulator.management.faults import ManagementFaults
from toolkit.emulator.management.hooks import (
    DEFAULT_COMPILE_TIMEOUT,
    PolicyValidator,
    time_bounded,
    well_formed_policy_validator,
)
from toolkit.emulator.management.store import ResourceStore
from toolkit.emulator.management.view import GatewayView

if TYPE_CHECKING:
    from toolkit.emulator.request_guard import RequestGuard


class ManagementPlane:
    """Bundles what the emulator's parts share; ``state_file`` persists the store (``--state FILE``)."""

    def __init__(
        self,
        store: ResourceStore | None = None,
        *,
        state_file: str | Path | None = None,
        policy_validator: PolicyValidator | None = None,
        faults: ManagementFaults | None = None,
        counters: CallCounters | None = None,
        page_size: int = DEFAULT_PAGE_SIZE,
        token: str | None = None,
        compile_timeout: float = DEFAULT_COMPILE_TIMEOUT,
    ) -> None:
        if store is not None and state_file is not None:
            raise ValueError("give either a store or a state_file, not both")
        self.store = store if store is not None else ResourceStore(state_file)
        self.faults = faults if faults is not None else ManagementFaults()
        self.counters = counters if counters is not None else CallCounters()
        self.view = GatewayView(self.store)
        # Policies are validated in a worker thread with a bound: a slow document never stalls the server.
        self._policy_validator = time_bounded(policy_validator or well_formed_policy_validator, compile_timeout)
        self._page_size = page_size
        self.token = token or new_token()

    @cached_property
    def app(self) -> RequestGuard:
        """The ARM management ASGI app behind its request guard (built once)."""
        from toolkit.emulator.management.app import create_management_app
        from toolkit.emulator.request_guard import MANAGEMENT_MAX_BODY_BYTES, GuardRules, RequestGuard, arm_error_body

        app = create_management_app(self.store, policy_validator=self._policy_validator, faults=self.faults,
                                    counters=self.counters, page_size=self._page_size)
        rules = GuardRules("management API", arm_error_body, MANAGEMENT_MAX_BODY_BYTES, token=self.token)
        return RequestGuard(app, rules)
