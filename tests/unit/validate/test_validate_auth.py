"""The auth scenario against a gateway in miniature that checks the subscription key, then the JWT (only the one
valid token passes). Deployed as configured it passes; each deviation is named, throttling is inconclusive."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from toolkit.validate.expectations import JwtRule
from toolkit.validate.scenarios import auth
from toolkit.validate.settings import AuthSettings
from toolkit.validate.verdict import Check, Outcome, Verdict

KEY = "k" * 40  # not 32 long: a wrong key is as long as the real one
JWT = JwtRule(header_name="Authorization", scheme="Bearer", audiences=("api://gateway",), issuers=("https://issuer/",),
              failed_code=401)
CASES = ["missing", "expired", "not-yet-valid", "wrong-audience", "wrong-issuer", "bad-signature", "alg-none",
         "wrong-scheme", "no-expiry"]


def _segment(document: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


VALID = f"{_segment({'alg': 'RS256', 'kid': '1'})}.{_segment({'aud': 'api://gateway', 'iat': 1000})}.c2lnbmF0dXJl"


@dataclass
class AuthGateway:
    """Deployed: a key required or not, validate-jwt or not (refusing with ``failed_code``), a status override."""

    requires_key: bool = True
    validates_jwt: bool = True
    failed_code: int = 401
    scheme: str | None = "Bearer"
    accepts: tuple[str, ...] = ()   # negative cases the deployed validate-jwt lets through
    status: int | None = None       # every answer (throttled: 429; unreachable: 0)
    resets: int = 0

    def reset(self) -> None:
        self.resets += 1

    def now(self) -> float:
        return 2000.0

    def token(self, **options: Any) -> str:
        return f"minted.{_segment(options)}.sig"

    def answer(self, case: str, headers: dict[str, str]) -> int:
        if self.status is not None:
            return self.status
        if self.requires_key and headers.get("api-key") != KEY:
            return 401
        if not self.validates_jwt or case.removeprefix("jwt-") in self.accepts:
            return 200
        expected = f"{self.scheme} {VALID}" if self.scheme else VALID
        return 200 if headers.get("Authorization") == expected else self.failed_code


class Scenario:
    def __init__(self, gateway: AuthGateway, jwt: JwtRule | None = JWT, subscription_required: bool = True,
                 valid: str | None = VALID, control: bool = True, **settings: Any) -> None:
        self.gateway, self.scenario, self.sent = gateway, "auth", 0
        self.settings = AuthSettings(prompt="hi", **settings)
        self.expect = SimpleNamespace(jwt=jwt, key_header="api-key", subscription_required=subscription_required)
        self.target = SimpleNamespace(control=gateway if control else None, subscription_key=KEY)
        self.caller = SimpleNamespace(token=lambda: valid, nonce=lambda: "n", headers=self._headers)
        self.asked: list[tuple[str, dict[str, str]]] = []

    def _headers(self) -> dict[str, str]:
        headers = {"api-key": KEY}
        jwt, token = self.expect.jwt, self.caller.token()
        if jwt is not None and token:  # as Caller.headers: the configured header, with its scheme when required
            headers[jwt.header_name] = f"{jwt.scheme} {token}" if jwt.scheme else token
        return headers

    def ask(self, case: str, text: str, *, phase: str, headers: dict[str, str]) -> Any:
        assert case == phase and text == "hi n"
        self.sent += 1
        self.asked.append((case, headers))
        return SimpleNamespace(status=self.gateway.answer(case, headers))


def _run(gateway: AuthGateway, **options: Any) -> tuple[Verdict, Scenario]:
    ctx = Scenario(gateway, **options)
    return auth.run(ctx), ctx  # type: ignore[arg-type]


def _checks(verdict: Verdict) -> dict[str, Check]:
    return {c.name: c for c in verdict.checks}


def test_a_gateway_deployed_as_configured_refuses_every_case_and_serves_the_valid_caller() -> None:
    gateway = AuthGateway()
    verdict, ctx = _run(gateway)
    assert verdict.outcome is Outcome.PASS
    assert [c.name for c in verdict.checks] == ["valid", "key-missing", "key-wrong"] + [f"jwt-{c}" for c in CASES]
    checks = _checks(verdict)
    assert checks["valid"] == Check("valid", Outcome.PASS, "a valid key and JWT: 200", 200, 200)
    assert checks["key-missing"] == Check("key-missing", Outcome.PASS, "no subscription key: 401", 401, 401)
    assert checks["key-wrong"] == Check("key-wrong", Outcome.PASS, "a wrong subscription key: 401", 401, 401)
    assert checks["jwt-missing"].sentence == "a request without a JWT: 401"
    assert checks["jwt-expired"].sentence == "an expired JWT: 401"
    assert checks["jwt-wrong-scheme"].sentence == "a valid JWT without its 'Bearer' scheme (require-scheme): 401"
    assert checks["jwt-no-expiry"].sentence == "a JWT without an expiry (require-expiration-time): 401"
    assert checks["jwt-wrong-audience"].sentence == "a wrong-audience JWT: 401"
    assert verdict.sentence == "all 12 callers got the expected status (valid: 200, refused: 401 for keys, 401 for JWTs)"
    assert verdict.expected == {"jwt_failed_code": 401, "audiences": ["api://gateway"], "subscription_required": True}
    assert verdict.observed == {c.name: 401 if c.name != "valid" else 200 for c in verdict.checks}
    assert verdict.requests == ctx.sent == 12 and verdict.scenario == "auth" and gateway.resets == 1
    sent = dict(ctx.asked)
    assert "api-key" not in sent["key-missing"] and sent["key-missing"]["Authorization"] == f"Bearer {VALID}"
    assert sent["key-wrong"] == {"api-key": "0" * 40, "Authorization": f"Bearer {VALID}"}
    assert ctx.asked[0][0] == "valid"
    minted = sent["jwt-expired"]["Authorization"].split(".")[1]
    assert json.loads(base64.urlsafe_b64decode(minted + "=" * (-len(minted) % 4)))["audience"] == "api://gateway"
    assert sent["jwt-missing"] == {"api-key": KEY}
    assert sent["jwt-wrong-scheme"] == {"api-key": KEY, "Authorization": VALID}
    assert sent["jwt-expired"]["Authorization"].startswith("Bearer minted.")


def test_without_validate_jwt_only_the_keys_are_checked() -> None:
    verdict, ctx = _run(AuthGateway(validates_jwt=False), jwt=None)
    assert [c.name for c in verdict.checks] == ["valid", "key-missing", "key-wrong"]
    assert _checks(verdict)["valid"].sentence == "a valid key: 200"
    assert verdict.sentence == "all 3 callers got the expected status (valid: 200, refused: 401 for keys, - for JWTs)"
    assert verdict.expected == {"jwt_failed_code": None, "audiences": [], "subscription_required": True}


def test_an_api_open_without_a_key_skips_the_key_cases() -> None:
    verdict, _ = _run(AuthGateway(requires_key=False), subscription_required=False)
    assert "key-missing" not in _checks(verdict) and verdict.outcome is Outcome.PASS


def test_a_deployed_api_without_a_subscription_fails_the_key_cases() -> None:
    verdict, _ = _run(AuthGateway(requires_key=False))
    assert _checks(verdict)["key-missing"] == Check("key-missing", Outcome.FAIL, "no subscription key got 200; expected "
                                                    "401: the API must require a subscription (subscriptionRequired)",
                                                    401, 200)
    assert _checks(verdict)["key-wrong"].sentence == ("a wrong subscription key got 200; expected 401: the API must "
                                                      "reject unknown keys")


def test_a_deployed_gateway_without_validate_jwt_fails_every_jwt_case() -> None:
    verdict, _ = _run(AuthGateway(validates_jwt=False))
    expired = _checks(verdict)["jwt-expired"]
    assert expired == Check("jwt-expired", Outcome.FAIL, "an expired JWT got 200; expected 401: validate-jwt should "
                            "refuse it with 401 (audience 'api://gateway')", 401, 200)
    assert verdict.outcome is Outcome.FAIL


def test_a_correct_caller_refused_names_the_audience() -> None:
    verdict, _ = _run(AuthGateway(), valid=VALID.replace("c2lnbmF0dXJl", "b3RoZXI"))
    assert _checks(verdict)["valid"] == Check("valid", Outcome.FAIL, "a valid key and JWT got 401; expected 200: the "
                                              "deployed gateway refuses a correct caller: compare its validate-jwt "
                                              "audiences and issuers with the config (audience 'api://gateway')", 200,
                                              401)
    verdict, _ = _run(AuthGateway(requires_key=True, validates_jwt=False, status=403), jwt=None)
    assert _checks(verdict)["valid"].sentence == ("a valid key got 403; expected 200: the deployed gateway refuses a "
                                                  "valid subscription key")


@pytest.mark.parametrize(("status", "shown"), [(429, "429"), (503, "503"), (0, "no response")])
def test_throttled_or_unreachable_is_inconclusive(status: int, shown: str) -> None:
    verdict, _ = _run(AuthGateway(status=status), jwt=None)
    assert _checks(verdict)["valid"] == Check("valid", Outcome.INCONCLUSIVE, f"a valid key: {shown} (throttled or "
                                              "unreachable, expected 200); run again when the target is not throttled",
                                              200, status)
    assert verdict.outcome is Outcome.INCONCLUSIVE


def test_a_deployed_refusal_code_other_than_configured_fails() -> None:
    verdict, _ = _run(AuthGateway(failed_code=403))
    assert _checks(verdict)["jwt-expired"].outcome is Outcome.FAIL and _checks(verdict)["jwt-expired"].observed == 403
    custom = JwtRule("Authorization", "Bearer", ("api://gateway",), (), 403)
    verdict, _ = _run(AuthGateway(failed_code=403), jwt=custom)
    assert verdict.outcome is Outcome.PASS and verdict.sentence.endswith("401 for keys, 403 for JWTs)")


def test_cases_validate_jwt_does_not_require_are_not_sent() -> None:
    lax = JwtRule("Authorization", None, ("api://gateway",), (), 401, require_expiration_time=False)
    verdict, ctx = _run(AuthGateway(scheme=None), jwt=lax)
    names = [c.name for c in verdict.checks]
    assert "jwt-wrong-scheme" not in names and "jwt-no-expiry" not in names and verdict.outcome is Outcome.PASS
    assert dict(ctx.asked)["jwt-expired"]["Authorization"].startswith("minted.")  # no scheme before the token


def test_without_a_valid_token_the_jwt_cases_are_not_sent() -> None:
    verdict, ctx = _run(AuthGateway(), valid=None)
    assert _checks(verdict)["jwt"] == Check("jwt", Outcome.INCONCLUSIVE, "no valid JWT can be had on this target (no "
                                            "test issuer, no credential): the JWT cases were not sent")
    assert ctx.sent == 3


def test_the_configured_cases_only_and_on_azure_no_reset() -> None:
    verdict, ctx = _run(AuthGateway(), control=False, jwt_cases=["expired", "bad-signature"])
    assert [c.name for c in verdict.checks][-2:] == ["jwt-expired", "jwt-bad-signature"] and ctx.gateway.resets == 0


def test_a_scheme_not_required_skips_only_the_wrong_scheme_case() -> None:
    no_scheme = JwtRule("Authorization", None, ("api://gateway",), (), 401)
    verdict, _ = _run(AuthGateway(scheme=None), jwt=no_scheme)
    names = [c.name for c in verdict.checks]
    assert "jwt-wrong-scheme" not in names and names[-1] == "jwt-no-expiry"


def test_a_rule_without_audiences_names_an_empty_one() -> None:
    anyone = JwtRule("Authorization", "Bearer", (), (), 401)
    verdict, _ = _run(AuthGateway(validates_jwt=False), jwt=anyone)
    assert _checks(verdict)["jwt-expired"].sentence.endswith("validate-jwt should refuse it with 401 (audience '')")
