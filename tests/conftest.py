"""Shared pytest fixtures: the project root and a loaded copy of the real params.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def project_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def raw_params() -> dict:
    from ganrepro import config

    return config.load_params(ROOT / "params.yaml")
