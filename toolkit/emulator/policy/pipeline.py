"""Running a request through the scopes' policies: inbound → backend → outbound, or on-error.

``chain`` is ``[global, (product,) api, operation]``; a None entry is that scope's default policy
(every section ``<base/>``; the global default forwards in ``<backend>``). Each section starts at
the most specific scope; ``<base/>`` runs the parent scope's same section.

Errors (`PolicyError`: a policy failure, an unreachable backend, an exhausted pool, a failed
expression, a forward timeout) fill ``context.LastError``, make the error's default response the
current one (so ``<on-error>`` can test ``context.Response.StatusCode == 503``) and run
``<on-error>``. Whatever response ``<on-error>`` leaves is returned; outbound does not run. An
error inside ``<on-error>`` ends the request with that error's default response. Default
responses: exhausted pool or open breaker 503 with APIM's JSON error body (an emulator choice);
connection failure, forward timeout and failed expression 500 with APIM's generic body
(``"Internal server error"`` and the request id as ``activityId``: the detail is in
``context.LastError.Message`` and the trace).

``return-response`` and a semantic-cache hit end the request at once: the rest of the section,
the backend and outbound are skipped (a cache hit returns the cached response as it was stored).

Work a policy leaves for after the answer (a semantic-cache store) is in ``ctx.after_answer``; the
caller runs it with ``run_after_answer`` once the answer is on its way.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from toolkit.emulator.policy.context import RequestContext
from toolkit.emulator.policy.document import CompiledPolicy, run_block
from toolkit.emulator.policy.errors import EndRequest, PolicyError
from toolkit.emulator.policy.headers import HeaderMap, reason_phrase

_log = logging.getLogger(__name__)
_MAIN_SECTIONS = ("inbound", "backend", "outbound")
_JSON_TYPE = ["application/json; charset=utf-8"]

DEFAULT_GLOBAL_POLICY = (
    "<policies><inbound/><backend><forward-request/></backend><outbound/><on-error/></policies>"
)
DEFAULT_POLICY = "<policies><inbound><base/></inbound><backend><base/></backend>" \
    "<outbound><base/></outbound><on-error><base/></on-error></policies>"


@lru_cache(maxsize=2)
def default_policy(scope: str) -> CompiledPolicy:
    """The policy of a scope that has none (compiled once)."""
    from toolkit.emulator.policy.compiler import compile_policy

    if scope == "global":
        return compile_policy(DEFAULT_GLOBAL_POLICY, "global")
    return compile_policy(DEFAULT_POLICY, "api")


def resolve_chain(chain: Sequence[CompiledPolicy | None]) -> tuple[CompiledPolicy, ...]:
    """The chain with missing scopes replaced by their defaults (global first)."""
    if not chain:
        return (default_policy("global"),)
    return tuple(
        policy if policy is not None else default_policy("global" if i == 0 else "api")
        for i, policy in enumerate(chain)
    )


async def run_pipeline(
    chain: Sequence[CompiledPolicy | None], ctx: RequestContext, services: Any
) -> RequestContext:
    """Run the request through ``chain``; the response is left in ``ctx`` (status, reason, headers, body)."""
    ctx.chain = resolved = resolve_chain(chain)
    top = resolved[-1].sections
    ctx.level = len(resolved) - 1
    try:
        try:
            for section in _MAIN_SECTIONS:
                ctx.section = section
                await run_block(top[section], ctx, services)
                if section == "backend" and ctx.hooks:
                    hooks, ctx.hooks = ctx.hooks, None
                    for hook in hooks:
                        await hook.after_backend(ctx, services)
        except EndRequest:
            pass
        except PolicyError as error:
            await _on_error(error, ctx, services, top["on-error"])
    finally:
        if ctx.hooks:
            hooks, ctx.hooks = ctx.hooks, None
            for hook in hooks:
                hook.abandon(ctx, services)
    ctx.ensure_response()
    return ctx


async def run_after_answer(ctx: RequestContext) -> None:
    """Run the work the policies left for after the answer (``ctx.after_answer``, in order), once the gateway has
    handed the answer to the client. A job's failure is noted in the trace and never reaches the client, whose
    answer is gone: the jobs catch what they expect themselves."""
    jobs, ctx.after_answer = ctx.after_answer, []
    for job in jobs:
        try:
            await job()
        except Exception as exc:  # noqa: BLE001 - unexpected: recorded, the next job still runs
            _log.warning("work after the answer of request %s failed: %s: %s", ctx.request_id,
                         type(exc).__name__, exc)
            ctx.note("pipeline", "work after the answer failed", {"error": f"{type(exc).__name__}: {exc}"})


async def run_on_error(
    chain: Sequence[CompiledPolicy | None], ctx: RequestContext, services: Any, error: PolicyError
) -> RequestContext:
    """A request that failed in a built-in step before any policy ran (no operation matched): ``error``
    fills ``context.LastError`` and only ``<on-error>`` runs, from the most specific scope in ``chain``."""
    ctx.chain = resolved = resolve_chain(chain)
    ctx.level = len(resolved) - 1
    ctx.section = "inbound"
    await _on_error(error, ctx, services, resolved[-1].sections["on-error"])
    ctx.ensure_response()
    return ctx


async def _on_error(error: PolicyError, ctx: RequestContext, services: Any, block: Any) -> None:
    _fail(error, ctx)
    ctx.section = "on-error"
    ctx.level = len(ctx.chain) - 1
    try:
        await run_block(block, ctx, services)
    except EndRequest:
        pass
    except PolicyError as second:
        _fail(second, ctx)


def _fail(error: PolicyError, ctx: RequestContext) -> None:
    """Record the error in context.LastError and make its default response current."""
    ctx.set_last_error(error)
    headers = HeaderMap(error.headers)
    if error.body is None:
        headers.set("content-type", list(_JSON_TYPE))
    ctx.set_response(error.status, reason_phrase(error.status), headers, error.default_body(ctx.request_id))
    if ctx.trace is not None:
        ctx.note("pipeline", f"error: {error.reason}", {
            "source": error.source, "reason": error.reason, "message": error.message,
            "section": ctx.last_error_section, "status": error.status,
        })
