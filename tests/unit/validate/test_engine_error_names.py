"""Both load engines name one transport failure alike, so their error tables compare (found by an audit:
the built-in engine said ConnectError, Locust ConnectionRefusedError)."""

from __future__ import annotations

import pytest

from toolkit.validate.engines.error_names import transport_error_name


def _wrapped(inner: BaseException) -> BaseException:
    try:
        try:
            raise inner
        except BaseException as exc:
            raise RuntimeError("requests.exceptions.ConnectionError-like wrapper") from exc
    except RuntimeError as outer:
        return outer


@pytest.mark.parametrize(("error", "name"), [
    (ConnectionRefusedError(111, "refused"), "ConnectError"),
    (ConnectionResetError(104, "reset"), "RemoteProtocolError"),
    (_wrapped(ConnectionRefusedError(111, "refused")), "ConnectError"),  # the innermost known cause decides
    (ValueError("other"), "ValueError"),  # anything else keeps its own name
])
def test_transport_errors_get_httpx_names(error: BaseException, name: str) -> None:
    assert transport_error_name(error) == name
