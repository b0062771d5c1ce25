"""One test suite over every engine: the ``engine_name`` fixture parameterises tests."""

from __future__ import annotations

import pytest

from epicenter.engine import engine_available

ENGINE_PARAMS = [
    pytest.param("duckdb", id="duckdb"),
    pytest.param(
        "spark", id="spark",
        marks=[pytest.mark.spark,
               pytest.mark.skipif(not engine_available("spark")[0],
                                  reason=engine_available("spark")[1])],
    ),
]


def normalise(table) -> list[tuple]:
    """Rows as sorted tuples, floats rounded: engines may order and sum differently."""
    rows = []
    for row in table.to_pylist():
        rows.append(tuple(round(v, 9) if isinstance(v, float) else v for v in row.values()))
    return sorted(rows, key=repr)
