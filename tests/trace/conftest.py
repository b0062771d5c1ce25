"""Helpers for trace tests: build a scenario, trace, index the rows."""

from __future__ import annotations

import pytest

from epicenter.trace import find_contacts

from .scenario import Scenario, ts


@pytest.fixture
def trace(warehouse):
    """trace(scenario, case, **kw) -> {(contact, setting): row} on DuckDB."""

    def run(scenario: Scenario, *cases: str, as_of: str = "01-30 00:00", **kw):
        scenario.write(warehouse)
        with warehouse.open_engine() as engine:
            table = find_contacts(engine, list(cases), as_of=ts(as_of), **kw)
        return {(r["contact_key"], r["setting"]): r for r in table.to_pylist()}

    return run


def tier(rows: dict, contact: str, setting: str) -> str | None:
    row = rows.get((contact, setting))
    return row["tier"] if row else None
