"""<authentication-managed-identity>: attributes, the Authorization header, the output variable, ignore-error;
and backend credentials applied by forward-request."""

from __future__ import annotations

from .policy_helpers import FakeServices, api, assert_sections, document, execute, rejected

from toolkit.emulator.policy import SingleBackend

MI = '<authentication-managed-identity resource="https://cognitiveservices.azure.com"{extra}/>'


class FakeIdentity:
    def __init__(self) -> None:
        self.requests: list[tuple[str, str | None]] = []

    def token(self, resource: str, client_id: str | None = None) -> str:
        self.requests.append((resource, client_id))
        return f"token-for-{resource}-{client_id or 'system'}"


def _services(identity: FakeIdentity | None = None) -> FakeServices:
    services = FakeServices(backends={"one": SingleBackend("one", "https://one.test")})
    services.managed_identity = identity  # type: ignore[attr-defined]
    return services


def test_inbound_only() -> None:
    assert_sections(MI.format(extra=""), ("inbound",))


def test_refusals() -> None:
    assert "missing the required attribute 'resource'" in str(rejected(document(
        inbound="<authentication-managed-identity/>")))
    assert "'resource' is empty" in str(rejected(document(inbound='<authentication-managed-identity resource=" "/>')))
    assert "policy expressions are not allowed" in str(rejected(document(
        inbound=MI.format(extra=' client-id="@(context.Api.Id)"'))))
    assert "'authentication-provider' is not supported" in str(rejected(document(
        inbound=MI.format(extra=' authentication-provider="WorkloadIdentity"'))))


def test_sets_authorization_bearer_for_the_system_assigned_identity() -> None:
    identity = FakeIdentity()
    services = _services(identity)
    execute([None, api(inbound='<set-backend-service backend-id="one"/>' + MI.format(extra=""))], services,
            headers=[("Authorization", "Bearer caller-token")])
    assert identity.requests == [("https://cognitiveservices.azure.com", None)]
    assert services.calls[0]["headers"]["authorization"] == "Bearer token-for-https://cognitiveservices.azure.com-system"


def test_user_assigned_identity_and_output_variable() -> None:
    identity = FakeIdentity()
    services = _services(identity)
    ctx = execute([None, api(inbound='<set-backend-service backend-id="one"/>' + MI.format(
        extra=' client-id="11111111-2222-3333-4444-555555555555" output-token-variable-name="msi"'))], services)
    token = "token-for-https://cognitiveservices.azure.com-11111111-2222-3333-4444-555555555555"
    assert ctx.variables["msi"] == token
    assert services.calls[0]["headers"]["authorization"] == f"Bearer {token}"  # the header is set too


def test_without_an_identity_the_request_fails_unless_errors_are_ignored() -> None:
    failed = execute([None, api(inbound=MI.format(extra=""))], _services(None))
    assert failed.response_status == 500 and failed.last_error_reason == "ManagedIdentityUnavailable"
    services = _services(None)
    ignored = execute([None, api(inbound='<set-backend-service backend-id="one"/>' + MI.format(
        extra=' ignore-error="true"'))], services)
    assert ignored.response_status == 200 and "authorization" not in services.calls[0]["headers"]


def test_backend_credentials_are_added_to_the_forwarded_call() -> None:
    services = FakeServices(backends={"one": SingleBackend("one", "https://one.test", None, (("api-key", "k1"),),
                                                            (("code", "c 1"),))})
    execute([None, api(inbound='<set-backend-service backend-id="one"/>')], services, query="api-version=1")
    call = services.calls[0]
    assert call["extra_headers"] == [("api-key", "k1")]
    assert call["url"].endswith("?api-version=1&code=c+1")


def test_the_trace_notes_the_token_and_the_backend_only_when_tracing() -> None:
    policy = api(inbound='<set-backend-service backend-id="one"/>' + MI.format(extra=""))
    traced = execute([None, policy], _services(FakeIdentity()))
    assert [e["message"] for e in traced.trace.find("authentication-managed-identity")] == [
        "token for https://cognitiveservices.azure.com (system-assigned)"]
    assert [e["message"] for e in traced.trace.find("set-backend-service")] == ["backend-id one"]
    untraced = execute([None, policy], _services(FakeIdentity()), trace=False)
    assert untraced.trace is None and (untraced.request_headers.get("authorization") or "").startswith("Bearer token-for")
