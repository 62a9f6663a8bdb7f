"""Azure 401 and 403 answers, as the emulator's management API gives them (fault injection), through the real SDK:
401 is an AuthError naming the credential, 403 names the role the identity lacks; both exit 4, never retried."""

from __future__ import annotations

import pytest

from toolkit.artifacts.layout import Kind
from toolkit.emulator.management import ManagementPlane
from toolkit.errors import AuthError
from toolkit.publish import ApimTarget
from toolkit.publish.errors import RemoteHttpError
from toolkit.publish.resources import ResourceRef

B1 = ResourceRef(Kind.BACKEND, "b1")
BODY = {"properties": {"url": "https://b1.example.com", "protocol": "http"}}


def test_401_is_an_auth_error_with_a_credential_hint(target: ApimTarget, plane: ManagementPlane,
                                                     sleeps: list[float]) -> None:
    plane.faults.fail_nth_write(1, 401, code="AuthenticationFailed", message="The access token is expired.")
    with pytest.raises(AuthError) as caught:
        target.client.put(B1, BODY)
    assert caught.value.message.startswith("write backend 'b1': authentication failed: ")
    assert "The access token is expired." in caught.value.message
    assert "--auth" in (caught.value.hint or "") and caught.value.exit_code == 4
    assert sleeps == [] and plane.store.all() == []


def test_403_names_the_missing_role(target: ApimTarget, plane: ManagementPlane, sleeps: list[float]) -> None:
    plane.faults.fail_nth_write(1, 403, code="AuthorizationFailed", message="The client does not have authorization.")
    with pytest.raises(RemoteHttpError) as caught:
        target.client.put(B1, BODY)
    assert not isinstance(caught.value, AuthError) and caught.value.status == 403
    assert caught.value.message == ("write backend 'b1': HTTP 403 AuthorizationFailed: "
                                    "The client does not have authorization.")
    assert caught.value.hint == "the identity needs the 'API Management Service Contributor' role on the service"
    assert sleeps == [] and caught.value.exit_code == 4
