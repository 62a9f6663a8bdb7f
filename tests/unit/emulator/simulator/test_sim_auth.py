"""A simulated Azure OpenAI instance's credential and api-version checks, as Azure OpenAI answers them."""

from __future__ import annotations

import pytest

from toolkit.emulator.simulator.auth import INVALID_KEY, INVALID_TOKEN, BackendAuth

KEY = "k" * 32
VERSION = b"api-version=2024-10-21"


def _auth() -> BackendAuth:
    return BackendAuth(KEY, verify_bearer=lambda token: token == "good")


@pytest.mark.parametrize("headers", [
    [(b"api-key", KEY.encode())],
    [(b"Api-Key", KEY.encode())],
    [(b"authorization", b"Bearer good")],
    [(b"authorization", b"bearer good"), (b"api-key", b"apim-subscription-key")],  # token wins over a foreign key
])
def test_accepted(headers):
    assert _auth().refusal(headers, VERSION) is None


@pytest.mark.parametrize(("headers", "body"), [
    ([], {"error": {"code": "401", "message": INVALID_KEY}}),
    ([(b"api-key", b"wrong")], {"error": {"code": "401", "message": INVALID_KEY}}),
    ([(b"api-key", KEY[:-1].encode())], {"error": {"code": "401", "message": INVALID_KEY}}),
    ([(b"authorization", b"Bearer bad")], {"statusCode": 401, "message": INVALID_TOKEN}),
    ([(b"authorization", b"Basic good")], {"statusCode": 401, "message": INVALID_TOKEN}),
    ([(b"authorization", b"Bearer bad"), (b"api-key", b"wrong")], {"error": {"code": "401", "message": INVALID_KEY}}),
])
def test_refused_with_azure_openais_401(headers, body):
    refusal = _auth().refusal(headers, VERSION)
    assert refusal is not None and (refusal.status, refusal.body) == (401, body)


@pytest.mark.parametrize("query", [b"", b"api-version=", b"apiversion=2024-10-21"])
def test_missing_api_version_is_404_resource_not_found(query):
    refusal = _auth().refusal([(b"api-key", KEY.encode())], query)
    assert refusal is not None
    assert (refusal.status, refusal.body) == (404, {"error": {"code": "404", "message": "Resource not found"}})


def test_credentials_are_checked_before_the_api_version():
    refusal = _auth().refusal([], b"")
    assert refusal is not None and refusal.status == 401


def test_no_verifier_accepts_no_token():
    assert BackendAuth(KEY).refusal([(b"authorization", b"Bearer good")], VERSION).status == 401
