"""<check-header>: a required header, optionally with allowed values."""

from __future__ import annotations

import pytest
from .policy_helpers import api, assert_sections, body_json, document, execute, rejected

URL = {"backend_url": "http://backend.test"}


def check(ignore_case: str = "true", values: str = "<value>Gold</value><value>silver</value>") -> str:
    return (f'<check-header name="x-tier" failed-check-httpcode="401" failed-check-error-message="Tier missing" '
            f'ignore-case="{ignore_case}">{values}</check-header>')


def test_sections() -> None:
    assert_sections(check(), ("inbound",))


@pytest.mark.parametrize(("xml", "message"), [
    ('<check-header name="a" failed-check-httpcode="401" failed-check-error-message="m"/>',
     "missing the required attribute 'ignore-case'"),
    ('<check-header name="a" failed-check-httpcode="99" failed-check-error-message="m" ignore-case="true"/>',
     "outside the allowed range"),
])
def test_refusals(xml: str, message: str) -> None:
    assert message in str(rejected(document(inbound=xml)))


@pytest.mark.parametrize(("xml", "headers", "status"), [
    (check(), [("x-tier", "gold")], 200),
    (check(ignore_case="false"), [("x-tier", "gold")], 401),
    (check(), [("x-tier", "bronze")], 401),
    (check(), [], 401),
    (check(values=""), [("x-tier", "anything")], 200),
])
def test_requests(xml: str, headers: list[tuple[str, str]], status: int) -> None:
    ctx = execute([None, api(inbound=xml)], headers=headers, **URL)
    assert ctx.response_status == status
    if status == 401:
        assert body_json(ctx) == {"statusCode": 401, "message": "Tier missing"}


@pytest.mark.parametrize(("headers", "reason", "message"), [
    ([], "HeaderNotFound", "Header x-tier was not found in the request. Access denied."),
    ([("x-tier", "bronze")], "HeaderValueNotAllowed", "Header x-tier value of bronze is not allowed. Access denied."),
])
def test_last_error_is_apims(headers: list[tuple[str, str]], reason: str, message: str) -> None:
    ctx = execute([None, api(inbound=check())], headers=headers, **URL)
    assert (ctx.last_error_source, ctx.last_error_reason, ctx.last_error_message) == ("check-header", reason, message)
    assert body_json(ctx) == {"statusCode": 401, "message": "Tier missing"}
    assert ctx.response_headers.get("content-type") == "application/json; charset=utf-8"
