"""The gateway's loop polls for a window after it answers (TOOLKIT_EMULATOR_BUSY_POLL_US), and not when it is 0."""

from __future__ import annotations

import time

import httpx
import pytest
from e2e_requests import API_VERSION, REPO, auth_headers, chat_body

from toolkit.config import load_config
from toolkit.errors import InputError
from toolkit.local import local_gateway


@pytest.mark.parametrize(("window_us", "polls"), [(400_000, True), (0, False)])
def test_the_gateway_polls_after_an_answer_for_the_configured_window(
    monkeypatch: pytest.MonkeyPatch, window_us: int, polls: bool
) -> None:
    monkeypatch.setenv("TOOLKIT_EMULATOR_BUSY_POLL_US", str(window_us))
    with local_gateway(load_config(REPO / "toolkit.yaml", "local", environ={})) as gateway, \
            httpx.Client(timeout=30.0) as client:
        busy_poll = gateway.emulator.gateway.busy_poll
        assert not busy_poll.polling  # nothing has come yet
        answer = client.post(gateway.chat_url("openai", "gpt-4o-mini", API_VERSION), json=chat_body("Still polling?"),
                             headers=auth_headers(gateway))
        assert answer.status_code == 200
        assert busy_poll.polling is polls
        time.sleep(0.6)  # past the window: the loop sleeps again
        assert not busy_poll.polling


def test_a_bad_window_stops_the_emulator_from_starting_with_the_variable_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOOLKIT_EMULATOR_BUSY_POLL_US", "lots")
    with pytest.raises(InputError, match="TOOLKIT_EMULATOR_BUSY_POLL_US must be a whole number"):
        with local_gateway(load_config(REPO / "toolkit.yaml", "local", environ={})):
            pass
