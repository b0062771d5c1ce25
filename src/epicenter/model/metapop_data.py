"""Inputs of the metapopulation model: areas, populations, daily OD matrices, case counts.

Sources: the Li et al. 2020 reference folder (``Mobility.csv`` long format, ``pop.csv``,
``Incidence.csv``); the spec's ``od_flow`` template (date, origin_code, destination_code,
trips) as a CSV file or the warehouse table ``od_flow``. Matrices are M[d][dest, origin].
Days after the last OD day reuse the last observed week (weekly rhythm), so runs can
extend past the data; travel restrictions scale M from a given day.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# the reference copy in the repository (data/reference/, next to src/)
LI2020_DIR = Path(__file__).resolve().parents[3] / "data" / "reference" / "li2020_china_metapop"
LI2020_START = dt.date(2020, 1, 10)


@dataclass(frozen=True)
class TravelRestriction:
    """From day ``start`` on, multiply trips touching ``areas`` (all trips if empty) by ``factor``."""

    start: int
    factor: float
    areas: tuple[int, ...] = ()

    def apply(self, mob: np.ndarray) -> np.ndarray:
        if not self.areas:
            return mob * self.factor
        scale = np.ones(mob.shape[0])
        scale[list(self.areas)] = self.factor
        # a trip is restricted when its origin or its destination is restricted
        return mob * np.minimum(scale[:, None], scale[None, :])


@dataclass
class MetapopData:
    names: list[str]
    population: np.ndarray
    od: np.ndarray  # (days, n, n) M[d][dest, origin]
    start: dt.date
    cases: np.ndarray | None = None  # (days, n) reported cases per day from ``start``
    restrictions: list[TravelRestriction] = field(default_factory=list)

    def index(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError as err:
            raise ValueError(f"unknown area {name!r}") from err

    def mobility(self, day: int) -> np.ndarray:
        """M for day index ``day``; beyond the data, the matching day of the last week."""
        days = self.od.shape[0]
        source = day
        if day >= days:
            week = min(7, days)
            source = days - week + (day - days) % week
        mob = self.od[source]
        for r in self.restrictions:
            if day >= r.start:
                mob = r.apply(mob)
        return mob

    def with_restrictions(self, restrictions: Iterable[TravelRestriction]) -> MetapopData:
        return MetapopData(self.names, self.population, self.od, self.start, self.cases,
                           list(restrictions))


def _matrix_from_long(rows: Iterable[tuple[int, str, str, float]], names: Sequence[str],
                      days: int) -> np.ndarray:
    pos = {n: i for i, n in enumerate(names)}
    od = np.zeros((days, len(names), len(names)))
    for day, origin, dest, trips in rows:
        if origin in pos and dest in pos and origin != dest:
            od[day, pos[dest], pos[origin]] += trips
    return od


def load_li2020(folder: Path | str = LI2020_DIR) -> MetapopData:
    """The 375 cities of Li et al. 2020: Mobility.csv -> M[d][dest, origin], pop, Incidence."""
    folder = Path(folder)
    with open(folder / "pop.csv", encoding="utf-8") as f:
        pops = [(r["City"], float(r["Population"])) for r in csv.DictReader(f)]
    names = [n for n, _ in pops]
    with open(folder / "Mobility.csv", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        rows = [(int(r["Day"]) - 1, r["Origin"], r["Destination"], float(r["Mobility Index"]))
                for r in reader]
    od = _matrix_from_long(rows, names, max(r[0] for r in rows) + 1)
    with open(folder / "Incidence.csv", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[1:] != names:
            raise ValueError("Incidence.csv columns do not follow pop.csv")
        table = [row for row in reader]
    cases = np.array([[float(v) for v in row[1:]] for row in table])
    start = dt.date.fromisoformat(table[0][0])
    return MetapopData(names, np.array([p for _, p in pops]), od, start, cases)


def od_from_rows(rows: Iterable[tuple[dt.date, str, str, float]],
                 population: dict[str, float]) -> MetapopData:
    """Build the model input from od_flow rows (date, origin_code, destination_code, trips)."""
    rows = list(rows)
    if not rows:
        raise ValueError("no od_flow rows")
    dates = sorted({r[0] for r in rows})
    start = dates[0]
    names = sorted(population)
    long = [((d - start).days, o, t, float(n)) for d, o, t, n in rows]
    od = _matrix_from_long(long, names, (dates[-1] - start).days + 1)
    return MetapopData(names, np.array([float(population[n]) for n in names]), od, start)


def read_od_csv(path: Path | str) -> list[tuple[dt.date, str, str, float]]:
    """The od_flow template as CSV: date, origin_code, destination_code, trips."""
    with open(path, encoding="utf-8") as f:
        return [(dt.date.fromisoformat(r["date"]), r["origin_code"], r["destination_code"],
                 float(r["trips"])) for r in csv.DictReader(f)]


def read_population_csv(path: Path | str) -> dict[str, float]:
    """area_code (or City), population."""
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    key = "area_code" if rows and "area_code" in rows[0] else "City"
    col = "population" if rows and "population" in rows[0] else "Population"
    return {r[key]: float(r[col]) for r in rows}


def load_warehouse(settings) -> MetapopData:  # noqa: ANN001 - Settings, avoids an import cycle
    """od_flow and area populations from the warehouse (DuckDB or Spark engine)."""
    from epicenter.warehouse import Warehouse

    with Warehouse(settings.home).open_engine(settings.engine) as engine:
        flows = engine.query(
            "SELECT date, origin_code, destination_code, sum(trips) AS trips FROM od_flow "
            "GROUP BY ALL ORDER BY date").to_pylist()
        areas = engine.query(
            "SELECT area_code, max(population) AS population FROM area "
            "WHERE population IS NOT NULL GROUP BY area_code").to_pylist()
    population = {a["area_code"]: float(a["population"]) for a in areas}
    used = {f["origin_code"] for f in flows} | {f["destination_code"] for f in flows}
    missing = used - set(population)
    if missing:
        raise ValueError(f"areas without a population in table area: {sorted(missing)[:5]}")
    return od_from_rows([(f["date"], f["origin_code"], f["destination_code"], f["trips"])
                         for f in flows], {k: v for k, v in population.items() if k in used})
