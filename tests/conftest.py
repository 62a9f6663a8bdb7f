"""Shared fixtures."""

from __future__ import annotations

from collections.abc import Iterator
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
