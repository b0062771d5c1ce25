"""End to end: a synthetic city's delivery ingests with every dirty row accounted for."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from epicenter.ingest.delivery import ingest_items, plan_delivery
from epicenter.synth import generate
from tests.ingest.conftest import query


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("city")
    generate(out, persons=2000, days=7, seed=1)
    return out


def test_synthetic_delivery_ingests_with_every_dirty_row_quarantined(city, settings):
    items, _ = plan_delivery(city)
    results = ingest_items(settings, items)
    assert not [r for r in results if "error" in r]
    batches = settings.warehouse.catalog.batches()
    assert len(batches) == len(items)
    for b in batches:
        assert b["rows_read"] == b["rows_loaded"] + b["rows_quarantined"] + b["rows_duplicate"], b
    quarantined = {(Path(r["source_file"]).relative_to(city).as_posix(), r["line_no"]): r
                   for r in query(settings, "SELECT * FROM quarantine")}
    truth = list(csv.DictReader(open(city / "truth" / "dirty_rows.csv", encoding="utf-8")))
    assert len(truth) > 100
    missing = []
    for t in truth:
        hit = quarantined.get((t["file"], int(t["line"])))
        if hit:
            rules = [r for r in hit["reasons"] if not r.startswith("exact duplicate")]
            if t["defect"] == "duplicate":
                assert hit["disposition"] == "duplicate", t
            else:  # possibly a copy of an earlier bad row, but a rule must have failed
                assert rules, (t, hit["reasons"])
            continue
        missing.append(t)
    assert missing == []
