"""The collector's settings while emulators serve: raised young threshold and frozen start-up objects, restored
when the last emulator stops."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from toolkit.emulator import serving_gc
from toolkit.emulator.runtime import Emulator
from toolkit.emulator.serving_gc import SERVING_THRESHOLD, start_serving, stop_serving


@pytest.fixture(autouse=True)
def default_collector() -> Iterator[None]:
    saved = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    gc.unfreeze()
    yield
    while serving_gc._serving:
        stop_serving()
    gc.set_threshold(*saved)
    gc.unfreeze()


def test_settings_hold_until_the_last_emulator_stops() -> None:
    start_serving()
    start_serving()
    assert gc.get_threshold() == (SERVING_THRESHOLD, 10, 10) and gc.get_freeze_count() > 0
    stop_serving()
    assert gc.get_threshold() == (SERVING_THRESHOLD, 10, 10) and gc.get_freeze_count() > 0
    stop_serving()
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
    stop_serving()  # one stop too many changes nothing
    assert gc.get_threshold() == (700, 10, 10)


def test_a_higher_threshold_set_by_the_process_is_kept() -> None:
    gc.set_threshold(50_000, 10, 10)
    start_serving()
    assert gc.get_threshold()[0] == 50_000
    stop_serving()
    assert gc.get_threshold() == (50_000, 10, 10)


def test_a_threshold_changed_while_serving_is_not_overwritten() -> None:
    start_serving()
    gc.set_threshold(1234, 10, 10)  # the host process's own choice meanwhile
    stop_serving()
    assert gc.get_threshold() == (1234, 10, 10)


def test_an_emulator_serves_with_them_and_restores_them() -> None:
    with Emulator():
        assert gc.get_threshold()[0] == SERVING_THRESHOLD and gc.get_freeze_count() > 0
    assert gc.get_threshold() == (700, 10, 10) and gc.get_freeze_count() == 0
