"""Fixtures: a TLS management plane served by uvicorn on loopback, the real azure-mgmt-apimanagement client, and
``refusal`` (the problems an ARM error answer states)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.emulator.management.arm import FIELD_PROBLEMS
from toolkit.testing.emulator_servers import management_client, serve_app_in_thread
from toolkit.testing.management_bodies import RG, SUB, SVC



Serve = Callable[..., tuple[str, Any]]


@pytest.fixture
def serve(tls: TlsMaterial) -> Iterator[Serve]:
    """serve(plane, **client_options) -> (base_url, client); everything stops at teardown."""
    with ExitStack() as stack:

        def start(plane: ManagementPlane, **client_options: Any) -> tuple[str, Any]:
            url = stack.enter_context(serve_app_in_thread(plane.app, ssl=tls))
            client = stack.enter_context(management_client(url, tls.ca_bundle_path, SUB, token=plane.token,
                                                           **client_options))
            return url, client

        yield start


@pytest.fixture
def served(plane: ManagementPlane, serve: Serve) -> tuple[str, Any]:
    """(base_url, client) for ``plane``."""
    return serve(plane)


@pytest.fixture
def client(served: tuple[str, Any]) -> Any:
    """The real ApiManagementClient pointed at the served plane."""
    return served[1]


@pytest.fixture
def http(served: tuple[str, Any], tls: TlsMaterial, plane: ManagementPlane) -> Iterator[Any]:
    """An httpx client for raw ARM calls (base URL = the service prefix), with a bearer token."""
    import httpx

    base = f"{served[0]}/subscriptions/{SUB}/resourceGroups/{RG}/providers/Microsoft.ApiManagement/service/{SVC}"
    with httpx.Client(base_url=base, verify=tls.client_ssl_context(), headers={"Authorization": f"Bearer {plane.token}"},
                      params={"api-version": "2024-05-01"}, timeout=10) as client:
        yield client


def _refusal(answer: Any) -> str:
    """The problems an ARM error answer (an HttpResponseError or an httpx response) states, one per line.

    Field problems are its ``details[]`` messages, under APIM's generic top line (checked here); an error that
    names no field is its top line alone.
    """
    response = answer.response if isinstance(answer, HttpResponseError) else answer
    error = json.loads(response.text() if callable(response.text) else response.text)["error"]
    if not error.get("details"):
        return error["message"]
    assert error["message"] == FIELD_PROBLEMS, error
    return "\n".join(detail["message"] for detail in error["details"])


@pytest.fixture
def refusal() -> Callable[[Any], str]:
    """refusal(answer) -> the problems of an ARM error answer, one per line (see :func:`_refusal`)."""
    return _refusal
