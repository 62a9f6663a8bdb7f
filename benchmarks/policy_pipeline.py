"""Overhead the policy engine adds per request, against a direct backend call in the same run.

Run: .venv/bin/python benchmarks/policy_pipeline.py [--requests 5000]

Each case runs ``run_pipeline`` for one request with DefaultGatewayServices over an in-process
``httpx.MockTransport`` backend; the baseline is ``services.forward`` alone on the same transport, so
the difference is the engine: context, sections, base resolution, expressions, pool draw, breaker
feeding, token counting, trace. Target (DESIGN): ≤ 1 ms p50 added by the gateway.

Cases:
  pool+retry     inbound base + set-backend-service (pool), backend retry(count=2) + forward-request
  sample-no-jwt  the sample API policy without validate-jwt (cache lookup + store with a stub
                 embeddings answer, token limit, pool, retry); every request a cache miss
  sample         the full sample policy (validate-jwt RS256 via openid-config, keys cached)

Measured 2026-11-26 (2 shared vCPUs, --requests 3000), ms:
  case            forward p50  pipeline p50  added p50  added p99
  pool+retry            0.196         0.237      0.041      0.365
  sample-no-jwt         0.226         0.511      0.284      0.954   (includes the embeddings call, ~0.2)
  sample                0.242         0.932      0.690      2.602
validate-jwt alone: ~0.15 ms to verify (pyjwt + RS256) and ~0.15 ms for the worker-thread hop that keeps
an openid-config fetch off the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from toolkit.emulator.jwt_issuer import TestIssuer  # noqa: E402
from toolkit.emulator.jwt_validation import OpenIdKeyCache  # noqa: E402
from toolkit.emulator.policy import RequestContext, Trace, compile_policy, run_pipeline  # noqa: E402
from toolkit.emulator.policy.default_services import DefaultGatewayServices  # noqa: E402

ISSUER = "http://127.0.0.1:9/bench"
CHAT = json.dumps({"id": "chatcmpl-1", "choices": [], "usage": {"total_tokens": 20}}).encode()
BACKENDS = {
    "a": {"properties": {"type": "Single", "url": "http://a.test", "circuitBreaker": {"rules": [{
        "name": "r", "failureCondition": {"count": 3, "interval": "PT5M", "statusCodeRanges": [{"min": 429, "max": 429}]},
        "tripDuration": "PT1M"}]}}},
    "b": {"properties": {"type": "Single", "url": "http://b.test"}},
    "emb": {"properties": {"type": "Single", "url": "http://emb.test/embeddings"}},
    "pool": {"properties": {"type": "Pool", "pool": {"services": [
        {"id": "/backends/a", "priority": 1, "weight": 50}, {"id": "/backends/b", "priority": 1, "weight": 50}]}}},
}
RETRY = ('<retry condition="@(context.Response.StatusCode == 429 || context.Response.StatusCode == 503)" count="2" '
         'interval="0" first-fast-retry="true"><forward-request buffer-request-body="true" timeout="120"/></retry>')
JWT = (f'<validate-jwt header-name="Authorization" require-scheme="Bearer"><openid-config url="{ISSUER}'
       '/.well-known/openid-configuration"/><audiences><audience>api://apim-emulator</audience></audiences>'
       f"<issuers><issuer>{ISSUER}</issuer></issuers></validate-jwt>")
CACHE = ('<azure-openai-semantic-cache-lookup score-threshold="0.05" embeddings-backend-id="emb" '
         'embeddings-backend-auth="system-assigned" ignore-system-messages="true">'
         "<vary-by>@(context.Subscription.Id)</vary-by></azure-openai-semantic-cache-lookup>")
LIMIT = ('<azure-openai-token-limit counter-key="@(context.Subscription.Id)" tokens-per-minute="1000000000" '
         'estimate-prompt-tokens="true" remaining-tokens-header-name="x-remaining" '
         'tokens-consumed-header-name="x-consumed"/>')


def _policy(inbound: str, outbound: str = "<base/>") -> str:
    return (f"<policies><inbound><base/>{inbound}<set-backend-service backend-id=\"pool\"/></inbound>"
            f"<backend>{RETRY}</backend><outbound>{outbound}</outbound><on-error><base/></on-error></policies>")


CASES = {
    "pool+retry": _policy(""),
    "sample-no-jwt": _policy(CACHE + LIMIT, '<base/><azure-openai-semantic-cache-store duration="60"/>'),
    "sample": _policy(JWT + CACHE + LIMIT, '<base/><azure-openai-semantic-cache-store duration="60"/>'),
}


def _answer(request: httpx.Request) -> httpx.Response:
    if request.url.host == "emb.test":
        # A distinct vector per request keeps every lookup a miss (the cache grows, as in a real run).
        _answer.count += 1  # type: ignore[attr-defined]
        vector = [0.0] * 384
        vector[_answer.count % 384] = 1.0  # type: ignore[attr-defined]
        return httpx.Response(200, json={"data": [{"index": 0, "embedding": vector}]})
    return httpx.Response(200, headers={"content-type": "application/json"}, content=CHAT)


_answer.count = 0  # type: ignore[attr-defined]


def _ctx(token: str, i: int) -> RequestContext:
    body = json.dumps({"messages": [{"role": "user", "content": f"What is climate change? #{i}"}]}).encode()
    return RequestContext(
        "POST", "/openai/openai/deployments/gpt-4o/chat/completions", query="api-version=2024-10-21",
        headers=[("api-key", "k"), ("authorization", f"Bearer {token}"), ("content-type", "application/json")],
        body=body, api_path="openai", api_id="azure-openai", subscription_id="sub-1", trace=Trace(),
    )


async def _measure(name: str, requests: int, issuer: TestIssuer) -> tuple[list[float], list[float]]:
    documents = {issuer.openid_configuration_url: issuer.openid_configuration(), issuer.jwks_uri: issuer.jwks()}
    async with httpx.AsyncClient(transport=httpx.MockTransport(_answer)) as client:
        services = DefaultGatewayServices(client, backends=BACKENDS,
                                          jwt_keys=OpenIdKeyCache(documents.__getitem__, time.time))
        chain = [None, compile_policy(CASES[name], "api", backends=list(BACKENDS)), None]
        token = issuer.mint(now=time.time())
        base, full = [], []
        for i in range(requests):
            ctx = _ctx(token, i)
            start = time.perf_counter()
            await services.forward(ctx, "http://a.test/openai/deployments/gpt-4o/chat/completions", 120)
            base.append(time.perf_counter() - start)
            ctx = _ctx(token, i)
            start = time.perf_counter()
            await run_pipeline(chain, ctx, services)
            full.append(time.perf_counter() - start)
            assert ctx.response_status == 200, (ctx.response_status, ctx.response_body)
        return base[requests // 10:], full[requests // 10:]  # drop the warm-up tenth


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    issuer = TestIssuer(ISSUER)
    print(f"{'case':14} {'forward p50':>12} {'pipeline p50':>13} {'added p50':>10} {'added p99':>10}  (ms)")
    for name in CASES:
        base, full = asyncio.run(_measure(name, args.requests, issuer))
        p50_base, p50_full = statistics.median(base), statistics.median(full)
        added = sorted(f - b for f, b in zip(full, base))
        p99 = added[int(len(added) * 0.99)]
        print(f"{name:14} {p50_base * 1e3:12.3f} {p50_full * 1e3:13.3f} {(p50_full - p50_base) * 1e3:10.3f}"
              f" {p99 * 1e3:10.3f}")


if __name__ == "__main__":
    main()
