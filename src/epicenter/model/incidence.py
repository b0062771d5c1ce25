"""Daily incidence series: the modelling input, read from a file or from the warehouse.

A series is local and imported cases per day (EpiEstim's convention: imported cases seed
transmission but are not produced by it). The file format is the spec's ``incidence``
template: ``date, cases`` or ``date, local, imported``; a ``day`` index (1, 2, ...) may
replace ``date``. EpiEstim's own column names (``t``, ``I``, ``I_local``, ``I_imported``) are
accepted too so that its example files load unchanged.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from epicenter.schema import AREA_CODE

_DAY_COLUMNS = ("day", "t")
_CASES_COLUMNS = ("cases", "I")
_LOCAL_COLUMNS = ("local", "I_local")
_IMPORTED_COLUMNS = ("imported", "I_imported")


@dataclass(frozen=True)
class Incidence:
    """Consecutive daily counts; ``dates`` is None when the input only had a day index."""

    local: np.ndarray
    imported: np.ndarray
    dates: list[dt.date] | None = None

    def __post_init__(self) -> None:
        if len(self.local) != len(self.imported):
            raise ValueError("local and imported series differ in length")
        if (np.asarray(self.local) < 0).any() or (np.asarray(self.imported) < 0).any():
            raise ValueError("incidence counts must be non-negative")

    @property
    def total(self) -> np.ndarray:
        return np.asarray(self.local, dtype=float) + np.asarray(self.imported, dtype=float)

    def __len__(self) -> int:
        return len(self.local)

    def date_of(self, index: int) -> dt.date | None:
        """Date of 0-based day ``index`` (may lie beyond the series, for forecasts)."""
        if self.dates is None:
            return None
        return self.dates[0] + dt.timedelta(days=index)

    def head(self, n: int) -> Incidence:
        """The first ``n`` days (a forecast origin in a backtest)."""
        return Incidence(self.local[:n], self.imported[:n], self.dates[:n] if self.dates else None)

    def with_first_day_imported(self) -> Incidence:
        """EpiEstim's convention: nothing before day 1 is known, so day 1's cases are imported."""
        local = np.asarray(self.local, dtype=float).copy()
        imported = np.asarray(self.imported, dtype=float).copy()
        if len(local):
            imported[0] += local[0]
            local[0] = 0.0
        return Incidence(local, imported, self.dates)


def from_counts(cases: np.ndarray | list, dates: list[dt.date] | None = None) -> Incidence:
    counts = np.asarray(cases, dtype=float)
    return Incidence(counts, np.zeros_like(counts), dates)


def _pick(header: list[str], names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in header), None)


def read_incidence(path: Path | str) -> Incidence:
    """Read an incidence file; missing days between dates are filled with zero counts."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        rows = list(reader)
    local_col, imported_col = _pick(header, _LOCAL_COLUMNS), _pick(header, _IMPORTED_COLUMNS)
    cases_col = _pick(header, _CASES_COLUMNS)
    if not (local_col and imported_col) and not cases_col:
        raise ValueError(f"{path}: needs a 'cases' column or 'local' and 'imported' columns")
    day_col = _pick(header, _DAY_COLUMNS)
    if "date" not in header and day_col is None:
        raise ValueError(f"{path}: needs a 'date' or a 'day' column")
    if not rows:
        raise ValueError(f"{path}: no days")

    def count(row: dict, col: str) -> float:
        text = (row.get(col) or "").strip()
        return float(text) if text else 0.0

    if "date" in header:
        keys = [dt.date.fromisoformat(r["date"].strip()) for r in rows]
        offsets = [(k - min(keys)).days for k in keys]
    else:
        keys = [int(float(r[day_col])) for r in rows]
        offsets = [k - min(keys) for k in keys]
    if len(set(offsets)) != len(offsets):
        raise ValueError(f"{path}: a day appears twice")
    n = max(offsets) + 1 if offsets else 0
    local, imported = np.zeros(n), np.zeros(n)
    for off, row in zip(offsets, rows, strict=True):
        if local_col and imported_col:
            local[off], imported[off] = count(row, local_col), count(row, imported_col)
        else:
            local[off] = count(row, cases_col)
    dates = None
    if "date" in header and keys:
        dates = [min(keys) + dt.timedelta(days=i) for i in range(n)]
    return Incidence(local, imported, dates)


# ---- warehouse ---------------------------------------------------------------------------

def area_with_children(engine, code: str) -> list[str]:
    """``code`` and every area below it (districts, streets, communities) by parent links."""
    rows = engine.query(f"SELECT {AREA_CODE} AS c, parent_code AS p FROM area").to_pylist()
    children: dict[str, list[str]] = {}
    for r in rows:
        if r["p"] is not None:
            children.setdefault(r["p"], []).append(r["c"])
    found, stack = {code}, [code]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return sorted(found)


def _fill(pairs: list[tuple[dt.date, float, float]]) -> Incidence:
    if not pairs:
        raise LookupError("no cases found for this area")
    start, end = pairs[0][0], pairs[-1][0]
    n = (end - start).days + 1
    local, imported = np.zeros(n), np.zeros(n)
    for d, loc, imp in pairs:
        local[(d - start).days] += loc
        imported[(d - start).days] += imp
    return Incidence(local, imported, [start + dt.timedelta(days=i) for i in range(n)])


def warehouse_incidence(engine, code: str) -> Incidence:
    """Daily positive cases by report date for an area and its children.

    Reads the ``cases`` view (first positive report per person). When the warehouse holds no
    line list for the area, an external ``incidence`` series for it is used instead.
    """
    codes = area_with_children(engine, code)
    rows = engine.query(
        "SELECT CAST(first_positive_time AS DATE) AS d, count(*) AS n FROM cases "
        f"WHERE first_positive_time IS NOT NULL AND list_contains($codes, {AREA_CODE}) "
        "GROUP BY 1 ORDER BY 1", {"codes": codes}).to_pylist()
    if rows:
        return _fill([(r["d"], float(r["n"]), 0.0) for r in rows])
    rows = engine.query(
        "SELECT date AS d, sum(local) AS loc, sum(imported) AS imp FROM incidence "
        f"WHERE list_contains($codes, {AREA_CODE}) GROUP BY 1 ORDER BY 1",
        {"codes": codes}).to_pylist()
    return _fill([(r["d"], float(r["loc"] or 0), float(r["imp"] or 0)) for r in rows])


def warehouse_onset_reports(engine, code: str) -> list[tuple[dt.date, dt.date, int]]:
    """(onset date, report date, count) of positive cases with both dates, for nowcasting."""
    codes = area_with_children(engine, code)
    rows = engine.query(
        "SELECT onset_date AS o, CAST(first_positive_time AS DATE) AS r, count(*) AS n FROM cases "
        "WHERE first_positive_time IS NOT NULL AND onset_date IS NOT NULL "
        f"AND list_contains($codes, {AREA_CODE}) GROUP BY 1, 2 ORDER BY 1, 2",
        {"codes": codes}).to_pylist()
    return [(r["o"], r["r"], int(r["n"])) for r in rows]


def read_li2020(path: Path | str, cities: int | None = None,
                rank_days: int | None = None) -> dict[str, Incidence]:
    """Reported cases per city from Li et al. 2020 ``Incidence.csv`` (a Date column, then one
    column per city), ordered by cases, largest first; ``cities`` keeps the top N.

    Cities are ranked by their total over the whole file, or, with ``rank_days``, over the
    first ``rank_days`` days only: a backtest whose first origin is that day then picks its
    cities without looking at what happened after it (ranking by the total favours the cities
    whose cases grew most afterwards, a selection on the outcome)."""
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    dates = [dt.date.fromisoformat(r[0]) for r in rows]
    counts = np.array([[float(v) for v in r[1:]] for r in rows])
    ranked = counts if rank_days is None else counts[:rank_days]
    order = sorted(range(counts.shape[1]), key=lambda j: (-ranked[:, j].sum(), header[j + 1]))
    if cities is not None:
        order = order[:cities]
    return {header[j + 1]: from_counts(counts[:, j], dates) for j in order}
