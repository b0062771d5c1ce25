"""The warehouse inputs of the models are the same on Spark as on DuckDB."""

from __future__ import annotations

import numpy as np
import pytest

from epicenter.model.incidence import warehouse_incidence, warehouse_onset_reports

pytestmark = pytest.mark.spark


def test_incidence_and_onset_pairs_agree_across_engines(filled):
    warehouse, _ = filled
    results = {}
    for name in ("duckdb", "spark"):
        with warehouse.open_engine(name) as engine:
            inc = warehouse_incidence(engine, "C1")
            results[name] = (inc.dates, inc.total, warehouse_onset_reports(engine, "D1"))
    assert results["duckdb"][0] == results["spark"][0]
    np.testing.assert_array_equal(results["duckdb"][1], results["spark"][1])
    assert results["duckdb"][2] == results["spark"][2]
