"""A CORS preflight that no OPTIONS operation matched: only the cors policies of its operation's inbound section
run on it ("Only the cors policy is evaluated on the OPTIONS request during preflight", the cors policy's usage
notes). The gateway finds the operation (`GatewayRuntime._preflight`); this runs its cors policies."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from toolkit.emulator.policy.context import RequestContext
from toolkit.emulator.policy.document import CompiledPolicy, run_block
from toolkit.emulator.policy.errors import EndRequest, PolicyError
from toolkit.emulator.policy.handlers.base import Base
from toolkit.emulator.policy.handlers.cors import Cors
from toolkit.emulator.policy.handlers.include_fragment import IncludeFragment
from toolkit.emulator.policy.pipeline import run_on_error


def inbound_cors(chain: Sequence[CompiledPolicy], services: Any) -> list[tuple[int, Cors]]:
    """The cors policies APIM evaluates on a preflight, with their scope's level in ``chain``: the direct
    children of the effective inbound section (a ``<base/>`` stands for its parent's, a fragment for its
    policies), in order."""
    found: list[tuple[int, Cors]] = []

    def walk(level: int, block: Iterable[Any]) -> None:
        for policy in block:
            if isinstance(policy, Cors):
                found.append((level, policy))
            elif isinstance(policy, Base) and level > 0:
                walk(level - 1, chain[level - 1].sections["inbound"])
            elif isinstance(policy, IncludeFragment) and (fragment := services.fragment(policy.fragment_id)):
                walk(level, fragment.sections["fragment"])

    walk(len(chain) - 1, chain[-1].sections["inbound"])
    return found


async def run_preflight(policies: list[tuple[int, Cors]], chain: Sequence[CompiledPolicy], ctx: RequestContext,
                        services: Any) -> None:
    """Run the cors ``policies`` in order until one answers; none does: an empty 200 (cors docs,
    terminate-unmatched-request="false": "If no cors policies are found, terminate the request with an empty
    200 OK response"). A failure (a bad expression) runs ``<on-error>``."""
    ctx.chain, ctx.section = tuple(chain), "inbound"
    try:
        for level, policy in policies:
            ctx.level = level
            await run_block((policy,), ctx, services)
    except EndRequest:
        pass
    except PolicyError as error:
        await run_on_error(chain, ctx, services, error)
    ctx.ensure_response()
