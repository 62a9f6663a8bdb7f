"""Fixtures for validation against a real emulator, with configs published through the real SDK."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from toolkit.config import load_config
from toolkit.local import LocalGateway, local_gateway

REPO = Path(__file__).resolve().parents[3]
CONFIG = REPO / "toolkit.yaml"


@pytest.fixture(scope="module")
def committed_gateway() -> Iterator[LocalGateway]:
    """The committed toolkit.yaml published to a fresh emulator."""
    with local_gateway(load_config(CONFIG, "local", environ={}), seed=11) as gateway:
        yield gateway


@pytest.fixture
def config_path() -> Path:
    """The committed toolkit.yaml (what validation expects)."""
    return CONFIG


@pytest.fixture
def publish_mutated(tmp_path: Path) -> Callable[[Callable[[dict[str, Any]], object]], Any]:
    """Start an emulator with a deliberately different config, published through the management API (the SDK)."""
    return lambda mutate: _mutated_gateway(tmp_path, mutate)


def _mutated_gateway(tmp_path: Path, mutate: Callable[[dict[str, Any]], object]) -> Any:
    document = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    mutate(document)
    path = tmp_path / "toolkit.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    for folder in ("policies", "validations"):  # so the mutated config can be validated against itself too
        if not (tmp_path / folder).exists():
            (tmp_path / folder).symlink_to(REPO / folder)
    return local_gateway(load_config(path, "local", environ={}), templates_dir=REPO / "policies", seed=5)
