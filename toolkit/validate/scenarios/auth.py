"""auth: subscription keys and validate-jwt refuse what they should, and a valid caller gets through."""

from __future__ import annotations

from dataclasses import replace

from toolkit.validate.context import Context
from toolkit.validate.expectations import JwtRule
from toolkit.validate.tokens import negative_token
from toolkit.validate.verdict import Check, Outcome, Verdict, combine

THROTTLED = (429, 503)


def _judge(name: str, status: int, expected: int, what: str, fix: str) -> Check:
    if status == expected:
        return Check(name, Outcome.PASS, f"{what}: {status}", expected, status)
    if status in THROTTLED or status == 0:
        return Check(name, Outcome.INCONCLUSIVE, f"{what}: {status or 'no response'} (throttled or unreachable, "
                     f"expected {expected}); run again when the target is not throttled", expected, status)
    return Check(name, Outcome.FAIL, f"{what} got {status}; expected {expected}: {fix}", expected, status)


def _jwt_case_text(case: str, jwt: JwtRule) -> str:
    """How a JWT case is named in sentences."""
    return {"missing": "a request without a JWT", "expired": "an expired JWT",
            "wrong-scheme": f"a valid JWT without its {jwt.scheme!r} scheme (require-scheme)",
            "no-expiry": "a JWT without an expiry (require-expiration-time)"}.get(case, f"a {case} JWT")


def run(ctx: Context) -> Verdict:
    expect, caller = ctx.expect, ctx.caller
    if ctx.target.control is not None:
        ctx.target.control.reset()
    checks: list[Check] = []
    jwt = expect.jwt
    audience = jwt.audiences[0] if jwt and jwt.audiences else ""
    valid = caller.token() if jwt else None
    key = ctx.target.subscription_key or ""

    def send(case: str, headers: dict[str, str]) -> int:
        return ctx.ask(case, f"{ctx.settings.prompt} {caller.nonce()}", phase=case, headers=headers).status

    with_jwt = caller.headers()
    checks.append(_judge("valid", send("valid", with_jwt), 200, "a valid key" + (" and JWT" if jwt else ""),
                         "the deployed gateway refuses a correct caller: compare its validate-jwt audiences and "
                         f"issuers with the config (audience {audience!r})" if jwt else
                         "the deployed gateway refuses a valid subscription key"))
    if expect.subscription_required:
        no_key = {k: v for k, v in with_jwt.items() if k != expect.key_header}
        checks.append(_judge("key-missing", send("key-missing", no_key), 401, "no subscription key",
                             "the API must require a subscription (subscriptionRequired)"))
        wrong = {**with_jwt, expect.key_header: "0" * len(key or "x" * 32)}
        checks.append(_judge("key-wrong", send("key-wrong", wrong), 401, "a wrong subscription key",
                             "the API must reject unknown keys"))
    if jwt is not None and valid is None:
        checks.append(Check("jwt", Outcome.INCONCLUSIVE, "no valid JWT can be had on this target (no test issuer, no "
                            "credential): the JWT cases were not sent"))
    elif jwt is not None:
        plain = {k: v for k, v in with_jwt.items() if k != jwt.header_name}
        for case in ctx.settings.jwt_cases:
            if (case == "wrong-scheme" and not jwt.scheme) or (case == "no-expiry" and not jwt.require_expiration_time):
                continue  # validate-jwt does not require it: such a token is accepted
            token = negative_token(case, str(valid), audience, ctx.target.control)
            headers = dict(plain)
            if token is not None:
                headers[jwt.header_name] = f"{jwt.scheme} {token}" if jwt.scheme and case != "wrong-scheme" else token
            checks.append(_judge(f"jwt-{case}", send(f"jwt-{case}", headers), jwt.failed_code, _jwt_case_text(case, jwt),
                                 f"validate-jwt should refuse it with {jwt.failed_code} (audience {audience!r})"))
    verdict = combine(ctx.scenario, checks, expected={"jwt_failed_code": jwt.failed_code if jwt else None,
                                                      "audiences": list(jwt.audiences) if jwt else [],
                                                      "subscription_required": expect.subscription_required},
                      observed={c.name: c.observed for c in checks}, requests=ctx.sent)
    if verdict.passed:
        verdict = replace(verdict, sentence=f"all {len(checks)} callers got the expected status (valid: 200, "
                          f"refused: 401 for keys, {jwt.failed_code if jwt else '-'} for JWTs)")
    return verdict
