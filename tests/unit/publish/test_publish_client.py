"""The SDK boundary: ARM errors, unreachable endpoints and TLS problems become RemoteError subclasses (exit 4)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from toolkit.artifacts.layout import Kind
from toolkit.config.models import EnvironmentConfig
from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.errors import InputError, RemoteError
from toolkit.publish import ApimTarget, connect_target
from toolkit.publish.errors import RemoteHttpError, Unreachable
from toolkit.publish.resources import ResourceRef

LOCAL = EnvironmentConfig(target="local")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_arm_validation_error_is_translated_with_status_and_message(target: ApimTarget) -> None:
    with pytest.raises(RemoteHttpError) as caught:
        target.client.put(ResourceRef(Kind.BACKEND, "bad"), {"properties": {"url": "not a url", "protocol": "http"}})
    assert caught.value.status == 400 and caught.value.code == "ValidationError"
    assert "write backend 'bad': HTTP 400 ValidationError: properties.url" in caught.value.message
    assert caught.value.exit_code == 4


def test_every_problem_of_an_arm_error_is_in_the_message(target: ApimTarget) -> None:
    """ARM puts the problems in details[] under a generic top line; each is shown with its field."""
    pool = {"properties": {"type": "Pool", "pool": {"services": [{"id": "/apis/x"}, {"id": "/backends/missing"}]}}}
    with pytest.raises(RemoteHttpError) as caught:
        target.client.put(ResourceRef(Kind.BACKEND, "pool"), pool)
    message = caught.value.message
    assert "One or more fields contain incorrect values" in message
    assert "properties.pool.services[0].id: '/apis/x' is not a backend id" in message
    assert "properties.pool.services[1].id: backend 'missing' does not exist" in message


def test_missing_resource_reads_as_none_and_delete_of_missing_is_fine(target: ApimTarget) -> None:
    ref = ResourceRef(Kind.BACKEND, "ghost")
    assert target.client.get(ref) is None
    target.client.delete(ref, None)


def test_unreachable_endpoint_is_a_clear_remote_error(tls: TlsMaterial) -> None:
    url = f"https://127.0.0.1:{_closed_port()}"
    with connect_target(LOCAL, management_url=url, ca_bundle=str(tls.ca_bundle_path),
                        environ={"TOOLKIT_EMULATOR_TOKEN": "t"}) as target:
        with pytest.raises(Unreachable) as caught:
            target.client.list_names(Kind.BACKEND)
    assert f"cannot reach {url}" in caught.value.message and caught.value.exit_code == 4


def test_untrusted_certificate_hints_at_the_ca_bundle(management_url: str, plane: ManagementPlane) -> None:
    with connect_target(LOCAL, management_url=management_url, environ={"TOOLKIT_EMULATOR_TOKEN": plane.token}) as target:
        with pytest.raises(RemoteError) as caught:
            target.client.get(ResourceRef(Kind.BACKEND, "x"))
    assert "--ca-bundle" in (caught.value.hint or "")


def test_plain_http_management_url_is_refused() -> None:
    with pytest.raises(InputError, match="must be https"):
        connect_target(LOCAL, management_url="http://127.0.0.1:1", environ={})


def test_local_target_without_url_starts_an_in_process_emulator(tmp_path: Path) -> None:
    local = EnvironmentConfig(target="local", emulator_state=str(tmp_path / "state.json"))
    with connect_target(local, environ={}) as target:
        assert target.label == f"local emulator with state {tmp_path / 'state.json'}"
        assert target.client.list_names(Kind.BACKEND) == []


def test_url_and_ca_bundle_come_from_the_environment(management_url: str, tls: TlsMaterial,
                                                    plane: ManagementPlane) -> None:
    env = {"TOOLKIT_MANAGEMENT_URL": management_url, "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path),
           "TOOLKIT_EMULATOR_TOKEN": plane.token}
    with connect_target(LOCAL, environ=env) as target:
        assert target.client.list_names(Kind.BACKEND) == []
        assert target.label == f"local emulator at {management_url}"


def test_a_url_without_the_emulator_token_is_refused_by_name(management_url: str, tls: TlsMaterial) -> None:
    with pytest.raises(InputError, match="TOOLKIT_EMULATOR_TOKEN"):
        connect_target(LOCAL, management_url=management_url, ca_bundle=str(tls.ca_bundle_path), environ={})


def test_a_wrong_emulator_token_is_an_auth_error(management_url: str, tls: TlsMaterial) -> None:
    from toolkit.errors import AuthError

    env = {"TOOLKIT_EMULATOR_TOKEN": "not-this-run"}
    with connect_target(LOCAL, management_url=management_url, ca_bundle=str(tls.ca_bundle_path), environ=env) as target:
        with pytest.raises(AuthError):
            target.client.list_names(Kind.BACKEND)


def test_an_emulator_object_plugs_in(management_url: str, tls: TlsMaterial, plane: ManagementPlane) -> None:
    from toolkit.emulator.management import StaticTokenCredential

    class Emulator:
        ca_bundle_path = Path(tls.ca_bundle_path)
        credential = StaticTokenCredential(plane.token)
        subscription_id, resource_group, service = "sub", "rg", "svc"

        def __init__(self, url: str) -> None:
            self.management_url = url

    emulator = Emulator(management_url)
    with connect_target(LOCAL, emulator=emulator, environ={}) as target:
        assert (target.client.resource_group, target.client.service) == ("rg", "svc")
        assert target.client.list_names(Kind.API) == []


def test_management_url_is_refused_for_azure_targets() -> None:
    azure = EnvironmentConfig(target="azure", subscription_id="s", resource_group="rg", service="svc")
    with pytest.raises(InputError, match="for local targets"):
        connect_target(azure, management_url="https://127.0.0.1:1", environ={})


def test_the_sdk_gets_short_timeouts_and_no_status_retries() -> None:
    from toolkit.emulator.management import StaticTokenCredential
    from toolkit.publish.client import create_sdk_client

    sdk = create_sdk_client(StaticTokenCredential(), "sub", base_url="https://127.0.0.1:1")
    retry = sdk._config.retry_policy
    assert (retry.total_retries, retry.connect_retries, retry.status_retries) == (2, 2, 0)
    transport = sdk._client._pipeline._transport
    assert (transport.connection_config.timeout, transport.connection_config.read_timeout) == (5.0, 30.0)
    assert sdk._config.polling_interval == 1.0
    sdk.close()
