"""graceful_stop: the first SIGINT/SIGTERM only sets the flag, the second raises KeyboardInterrupt; handlers come back."""

from __future__ import annotations

import os
import signal

import pytest

from toolkit.cli._interrupt import graceful_stop


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_first_signal_sets_the_flag_the_second_raises(sig: signal.Signals) -> None:
    said: list[str] = []
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    with graceful_stop("rolling back", say=said.append) as stop:
        assert not stop()
        os.kill(os.getpid(), sig)  # handled in this (main) thread before the next bytecode
        assert stop() and stop.signal_name == sig.name
        assert said == [f"{sig.name} received: stopping after the current write, then rolling back "
                        "(press Ctrl-C again to stop at once)"]
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert said[-1] == "SIGINT again: stopping at once"
    assert {s: signal.getsignal(s) for s in before} == before


def test_outside_the_main_thread_the_flag_never_fires() -> None:
    import threading

    seen: list[bool] = []

    def work() -> None:
        with graceful_stop("x", say=lambda _: None) as stop:
            seen.append(stop())

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(10)
    assert seen == [False]


def test_a_verb_under_sigterm_stops_gets_a_keyboard_interrupt_and_the_handler_comes_back() -> None:
    """Found by an audit: SIGTERM while apply was planning, or during apply --validate, exited 143 silently."""
    from toolkit.cli._interrupt import sigterm_stops

    before = signal.getsignal(signal.SIGTERM)

    @sigterm_stops
    def verb() -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    with pytest.raises(KeyboardInterrupt):
        verb()
    assert signal.getsignal(signal.SIGTERM) == before


def test_an_interrupted_validation_after_apply_leaves_the_apply_and_exits_130(monkeypatch, capsys) -> None:
    import click

    from toolkit.cli import _apply_validate

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    class Config:
        path, env_name = "toolkit.yaml", "dev"

        class environment:  # noqa: N801 - the attribute the code reads
            target = "azure"

    monkeypatch.setattr("toolkit.validate.api.validate", interrupted)
    restored: list[object] = []

    class Snapshot:
        def restore(self, *args: object, **kwargs: object) -> None:
            restored.append(args)

    with pytest.raises(click.exceptions.Exit) as caught:
        _apply_validate.validate_applied(Config(), ("backend-pool",), object(), Snapshot())
    assert caught.value.exit_code == 130 and restored == []
    assert "validation interrupted: the apply stands" in capsys.readouterr().err


def test_shielded_work_finishes_through_a_second_signal_and_the_handlers_come_back() -> None:
    """Found by an audit: a second Ctrl-C while the partial report was written left no report at all."""
    from toolkit.cli._interrupt import shielded

    said: list[str] = []
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    finished = False
    with shielded(say=said.append):
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGTERM)
        finished = True
    assert finished and said == ["SIGINT again: finishing the partial report first",
                                 "SIGTERM again: finishing the partial report first"]
    assert {s: signal.getsignal(s) for s in before} == before


def test_the_second_signal_abandons_waits_before_stopping() -> None:
    from toolkit.cli._interrupt import graceful_stop

    abandoned: list[bool] = []
    with graceful_stop("rolling back", say=lambda _: None, abandon=lambda: abandoned.append(True)) as stop:
        os.kill(os.getpid(), signal.SIGINT)
        assert stop() and abandoned == []  # the first only asks
        with pytest.raises(KeyboardInterrupt):
            os.kill(os.getpid(), signal.SIGINT)
    assert abandoned == [True]
