"""Fixtures for CLI tests that publish: a management plane served over TLS on loopback."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from toolkit.emulator.management import ManagementPlane, TlsMaterial
from toolkit.testing.emulator_servers import serve_app_in_thread


@pytest.fixture
def served_env(plane: ManagementPlane, tls: TlsMaterial, repo_root: Path) -> Iterator[dict[str, str]]:
    """This process's environment plus what points the CLI (in-process or a subprocess) at the served plane."""
    with serve_app_in_thread(plane.app, ssl=tls) as url:
        yield {**os.environ, "PYTHONPATH": str(repo_root), "TOOLKIT_MANAGEMENT_URL": url,
               "TOOLKIT_CA_BUNDLE": str(tls.ca_bundle_path), "TOOLKIT_EMULATOR_TOKEN": plane.token}
