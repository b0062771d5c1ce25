"""One 2,000-person, 7-day city per test session (a few seconds), shared by the tests."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from epicenter.synth import generate

PERSONS, DAYS, SEED = 2000, 7, 11


@pytest.fixture(scope="session")
def city(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("city") / "out"
    generate(root, PERSONS, DAYS, SEED)
    return root


@pytest.fixture(scope="session")
def summary(city) -> dict:
    return json.loads((city / "truth" / "params.json").read_text())
