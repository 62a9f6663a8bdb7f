"""RetryPolicy: 429 and 409 are waited out with backoff (Retry-After wins); anything else fails at once."""

from __future__ import annotations

import pytest

from toolkit.publish.errors import RemoteHttpError, http_error
from toolkit.publish.retry import RetryPolicy


def _failing(errors: list[RemoteHttpError]):  # type: ignore[no-untyped-def]
    calls = []

    def call() -> str:
        calls.append(1)
        if errors:
            raise errors.pop(0)
        return "ok"

    return call, calls


def test_retries_throttling_and_conflicts_with_exponential_backoff() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=4, base_delay=1.0, max_delay=3.0, sleep=sleeps.append)
    call, calls = _failing([http_error("x", 429), http_error("x", 409), http_error("x", 429)])
    assert policy.run(call) == "ok"
    assert len(calls) == 4 and sleeps == [1.0, 2.0, 3.0]


def test_retry_after_is_honoured_and_capped() -> None:
    sleeps: list[float] = []
    policy = RetryPolicy(attempts=3, max_delay=5.0, sleep=sleeps.append)
    call, _ = _failing([http_error("x", 429, retry_after=0.25), http_error("x", 429, retry_after=60)])
    assert policy.run(call) == "ok"
    assert sleeps == [0.25, 5.0]


def test_gives_up_after_the_last_attempt() -> None:
    sleeps: list[float] = []
    call, calls = _failing([http_error("x", 409)] * 5)
    with pytest.raises(RemoteHttpError) as caught:
        RetryPolicy(attempts=3, base_delay=0.1, sleep=sleeps.append).run(call)
    assert caught.value.status == 409 and len(calls) == 3 and len(sleeps) == 2


@pytest.mark.parametrize("status", [400, 404, 412, 500, 503])
def test_other_statuses_are_not_retried(status: int) -> None:
    sleeps: list[float] = []
    call, calls = _failing([http_error("x", status)])
    with pytest.raises(RemoteHttpError):
        RetryPolicy(sleep=sleeps.append).run(call)
    assert len(calls) == 1 and sleeps == []


def test_abandoned_waits_end_at_once_in_every_thread() -> None:
    """Found by an audit: after a second Ctrl-C the process stayed alive until a worker thread's Retry-After (8 s)
    had passed; the CLI's second signal now ends every wait."""
    import threading
    import time

    from toolkit.publish import retry

    def throttled() -> None:
        raise RemoteHttpError("429", status=429, retry_after=30.0)

    outcome: list[BaseException] = []

    def worker() -> None:
        try:
            RetryPolicy(attempts=3, max_delay=30.0).run(throttled)  # the default sleep: interruptible
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertion
            outcome.append(exc)

    thread = threading.Thread(target=worker)
    thread.start()
    try:
        time.sleep(0.2)
        started = time.perf_counter()
        retry.abandon_waits()
        thread.join(timeout=5)
        assert not thread.is_alive() and time.perf_counter() - started < 2
        assert isinstance(outcome[0], retry.RetryAbandoned)
    finally:
        retry._ABANDONED.clear()  # the flag is for a process that is stopping: later tests must not see it
