"""Shared fixtures."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from toolkit.emulator.management import ManagementPlane, TlsMaterial

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def repo_root() -> Path:
    """The repository root (toolkit.yaml, policies/, apimartifacts/)."""
    return REPO


@pytest.fixture
def machine_time_zone() -> Iterator[Callable[[str], None]]:
    """``machine_time_zone("Asia/Kolkata")`` sets the process's local time zone (TZ) for the rest of the test; the
    zone before is restored after it. For showing that a result does not depend on the machine's zone."""
    if not hasattr(time, "tzset"):
        pytest.skip("needs time.tzset")
    before = os.environ.get("TZ")

    def set_zone(name: str) -> None:
        os.environ["TZ"] = name
        time.tzset()

    yield set_zone
    if before is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture(scope="session")
def tls() -> Iterator[TlsMaterial]:
    """One throwaway CA and server certificate for the whole run (the management plane serves TLS)."""
    from toolkit.emulator.management import create_tls_material

    with create_tls_material() as material:
        yield material


@pytest.fixture
def plane() -> ManagementPlane:
    """A fresh in-memory management plane."""
    from toolkit.emulator.management import ManagementPlane

    return ManagementPlane()
