"""Fixtures: a warehouse with the tiny reference delivery loaded, and table readers.

The reference warehouse is built once per session and copied for each test, together
with the secret that keyed it, so every test still owns an isolated warehouse.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from epicenter.ingest.pipeline import ingest_file
from epicenter.settings import load_settings
from tests.ingest.builders import reference_delivery

REFERENCE_KINDS = ("area", "station", "cell_tower", "venue", "merchant", "meter", "person")


@pytest.fixture(scope="session")
def _reference_template(tmp_path_factory) -> tuple[Path, bytes]:
    base = tmp_path_factory.mktemp("reference")
    secret = base / "secret"
    previous = os.environ.get("EPICENTER_SECRET_FILE")
    os.environ["EPICENTER_SECRET_FILE"] = str(secret)
    try:
        settings = load_settings(home=base / "home")
        root = reference_delivery(base / "delivery")
        for kind in REFERENCE_KINDS:
            rec = ingest_file(settings, kind, root / f"{kind}.csv")
            assert rec["rows_quarantined"] == 0, kind
    finally:
        if previous is None:
            os.environ.pop("EPICENTER_SECRET_FILE", None)
        else:
            os.environ["EPICENTER_SECRET_FILE"] = previous
    return base / "home", secret.read_bytes()


@pytest.fixture
def loaded(settings, _reference_template):
    """Settings whose warehouse holds the reference data of ``builders.reference_delivery``."""
    home, secret = _reference_template
    shutil.copytree(home, settings.home)
    Path(os.environ["EPICENTER_SECRET_FILE"]).write_bytes(secret)
    return settings


def query(settings, sql: str) -> list[dict]:
    with settings.warehouse.open_engine() as e:
        return e.query(sql).to_pylist()


def quarantine(settings) -> dict[int, list[str]]:
    """line -> reasons of every quarantined row."""
    return {r["line_no"]: r["reasons"] for r in query(
        settings, "SELECT line_no, reasons FROM quarantine ORDER BY line_no")}
