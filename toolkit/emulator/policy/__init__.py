"""The emulator's policy engine: APIM policy documents compiled at publish, run per request.

For the gateway app::

    # publish time (management plane): compile each scope once, keep the CompiledPolicy
    global_policy = compile_policy(xml, "global", named_values=nv, fragments=frags, backends=names)
    api_policy = compile_policy(api_xml, "api", named_values=nv, fragments=frags, backends=names)

    # once: the services (state shared by all requests)
    services = DefaultGatewayServices(httpx.AsyncClient(), backends={name: backend_json, ...},
                                      clock=emulator_clock, sleep=emulator_sleep)

    # per request
    ctx = RequestContext(method, path, query=query, headers=headers, body=body, api_path="openai",
                         api_id=..., operation_id=..., subscription_id=..., trace=Trace())
    await run_pipeline([global_policy, api_policy, operation_policy_or_None], ctx, services)
    # answer ctx.response_status, ctx.response_reason, ctx.response_headers.items(), ctx.response_body;
    # then, with the answer on its way: await run_after_answer(ctx)  (e.g. the semantic-cache store)
    # ctx.trace.to_list() is the request's trace (JSON-ready)

Publish-time refusals raise `PolicyRejected` (message names the element, attribute or expression;
``.line``). Request-time failures run on-error (see `pipeline`). The element coverage is
`coverage_markdown()`.
"""

from __future__ import annotations

from toolkit.emulator.policy.compiler import compile_policy, policy_validator, validate_policy
from toolkit.emulator.policy.context import RequestContext, Trace
from toolkit.emulator.policy.document import CompiledPolicy, Policy
from toolkit.emulator.policy.errors import (
    BackendConnectionFailure,
    BackendTimeout,
    BackendUnavailable,
    EndRequest,
    ExpressionFailure,
    PolicyError,
    PolicyRejected,
)
from toolkit.emulator.policy.headers import HeaderMap
from toolkit.emulator.policy.pipeline import resolve_chain, run_after_answer, run_pipeline
from toolkit.emulator.policy.registry import HandlerRegistry, HandlerSpec, coverage_rows, handler
from toolkit.emulator.policy.services import (
    AzureAdAuthority,
    BackendResponse,
    EmbeddingsFailure,
    GatewayServices,
    PoolBackend,
    SingleBackend,
)


def coverage_markdown() -> str:
    """COVERAGE.md: the built-in handlers, then the policy-expression subset."""
    from toolkit.emulator.expressions import coverage_rows as expression_rows
    from toolkit.emulator.policy.handlers import default_registry
    from toolkit.emulator.policy.registry import coverage_markdown as render

    lines = ["", "## Policy expressions", "",
             "Anything else in an expression is refused at publish with its column.", "",
             "| construct | type | notes |", "|---|---|---|"]
    for construct, type_, notes in expression_rows():
        cells = [f"`{construct}`", type_, notes]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return render(default_registry()) + "\n".join(lines) + "\n"


def __getattr__(name: str) -> object:
    # DefaultGatewayServices imports httpx and the gateway modules: load it on first use.
    if name == "DefaultGatewayServices":
        from toolkit.emulator.policy.default_services import DefaultGatewayServices

        return DefaultGatewayServices
    raise AttributeError(name)


__all__ = [
    "AzureAdAuthority",
    "BackendConnectionFailure",
    "BackendResponse",
    "BackendTimeout",
    "BackendUnavailable",
    "CompiledPolicy",
    "DefaultGatewayServices",
    "EmbeddingsFailure",
    "EndRequest",
    "ExpressionFailure",
    "GatewayServices",
    "HandlerRegistry",
    "HandlerSpec",
    "HeaderMap",
    "Policy",
    "PolicyError",
    "PolicyRejected",
    "PoolBackend",
    "RequestContext",
    "SingleBackend",
    "Trace",
    "compile_policy",
    "coverage_markdown",
    "coverage_rows",
    "handler",
    "policy_validator",
    "resolve_chain",
    "run_after_answer",
    "run_pipeline",
    "validate_policy",
]
