"""Scenario files: a setting (model, population, disease) and the interventions to compare.

A scenario file (YAML) holds one setting and a list of scenarios; each scenario is a list
of measures (layer multipliers, isolation delay, from a day) and, for the metapopulation
model, travel restrictions. Days are day indices from the start of the run or ISO dates
(then ``start`` must be given). See ``data/scenarios/*.yaml`` and docs/models.md.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from epicenter.model.age_structured import Measure
from epicenter.model.contacts import LAYERS

EXAMPLES = resources.files("epicenter.model") / "data" / "scenarios"
MODELS = ("age", "metapop")


@dataclass(frozen=True)
class Travel:
    """Multiply trips from/to ``areas`` (names; all trips if empty) by ``factor`` from ``start``."""

    start: int
    factor: float
    areas: tuple[str, ...] = ()


@dataclass
class Scenario:
    name: str
    measures: list[Measure] = field(default_factory=list)
    travel: list[Travel] = field(default_factory=list)


@dataclass
class Setting:
    """Everything shared by the scenarios of one comparison."""

    model: str = "age"
    days: int = 180
    members: int = 100
    seed: int = 1
    start: dt.date | None = None
    # age model
    location: str = "China_Hubei"
    source: str = "mistry_2021"
    band_width: int | None = 5
    size: float = 10_000_000
    exposed: float = 100
    # disease (age model); r0 is a value or a (low, high) range drawn per member
    r0: float | tuple[float, float] = 2.5
    latent_days: float = 3.0
    infectious_days: float = 5.0
    p_asym: float = 0.3
    rel_asym: float = 0.5
    isolation_days: float | None = None
    rho: float = 0.5
    # metapopulation model
    data: str = "li2020"
    od_csv: str | None = None
    population_csv: str | None = None
    seed_area: str = "Wuhan"
    params: dict[str, float] = field(default_factory=dict)
    undocumented: float = 0.0
    b_range: tuple[float, float] | None = None


@dataclass
class ScenarioFile:
    name: str
    setting: Setting
    scenarios: list[Scenario]


def _day(value: Any, start: dt.date | None) -> int:
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.date):
        if start is None:
            raise ValueError("a date needs the setting's 'start' date")
        return (value - start).days
    raise ValueError(f"not a day index or date: {value!r}")


def _measure(raw: dict, start: dt.date | None) -> Measure:
    unknown = set(raw) - {"start", "isolation_days", *LAYERS}
    if unknown:
        raise ValueError(f"unknown measure keys {sorted(unknown)}")
    return Measure(start=_day(raw.get("start", 0), start), isolation_days=raw.get("isolation_days"),
                   **{k: raw.get(k) for k in LAYERS})


def _travel(raw: dict, start: dt.date | None) -> Travel:
    areas = raw.get("areas") or ()
    return Travel(_day(raw.get("start", 0), start), float(raw["factor"]),
                  tuple([areas] if isinstance(areas, str) else areas))


def _pair(value: Any) -> float | tuple[float, float]:
    if isinstance(value, list | tuple):
        low, high = (float(v) for v in value)
        if not low <= high:
            raise ValueError("a range is [low, high]")
        return (low, high)
    return float(value)


def parse(doc: dict) -> ScenarioFile:
    """Build a scenario file from its YAML mapping (unknown keys are errors, not ignored)."""
    known = set(Setting.__dataclass_fields__) | {"name", "scenarios"}
    unknown = set(doc) - known
    if unknown:
        raise ValueError(f"unknown keys in scenario file: {sorted(unknown)}")
    values = {k: v for k, v in doc.items() if k in Setting.__dataclass_fields__}
    if "start" in values and isinstance(values["start"], str):
        values["start"] = dt.date.fromisoformat(values["start"])
    if "r0" in values:
        values["r0"] = _pair(values["r0"])
    if values.get("b_range") is not None:
        values["b_range"] = _pair(values["b_range"])
    setting = Setting(**values)
    if setting.model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}")
    scenarios = []
    for raw in doc.get("scenarios") or [{"name": "baseline"}]:
        scenarios.append(Scenario(
            name=str(raw["name"]),
            measures=[_measure(m, setting.start) for m in raw.get("measures") or []],
            travel=[_travel(t, setting.start) for t in raw.get("travel") or []]))
    names = [s.name for s in scenarios]
    if len(set(names)) != len(names):
        raise ValueError("scenario names must be unique")
    return ScenarioFile(str(doc.get("name", "scenarios")), setting, scenarios)


def load(path: Path | str) -> ScenarioFile:
    """A scenario file by path, or by the name of a shipped example (e.g. ``city_interventions``)."""
    p = Path(path)
    if not p.exists():
        shipped = EXAMPLES / f"{Path(path).stem}.yaml"
        if not shipped.is_file():
            raise FileNotFoundError(f"no scenario file {path}")
        return parse(yaml.safe_load(shipped.read_text(encoding="utf-8")))
    return parse(yaml.safe_load(p.read_text(encoding="utf-8")))


def from_flags(base: ScenarioFile, start_day: int, layers: dict[str, float | None],
               isolation_days: float | None, travel_factor: float | None,
               travel_areas: tuple[str, ...]) -> ScenarioFile:
    """Add one scenario built from command-line flags to ``base`` (kept for comparison)."""
    measures = []
    if any(v is not None for v in layers.values()) or isolation_days is not None:
        measures.append(Measure(start=start_day, isolation_days=isolation_days, **layers))
    travel = [] if travel_factor is None else [Travel(start_day, travel_factor, travel_areas)]
    if not measures and not travel:
        return base
    parts = [f"{k}={v:g}" for k, v in layers.items() if v is not None]
    if isolation_days is not None:
        parts.append(f"isolation={isolation_days:g}d")
    if travel_factor is not None:
        parts.append(f"travel={travel_factor:g}")
    extra = Scenario(f"flags: {' '.join(parts)} from day {start_day}", measures, travel)
    return ScenarioFile(base.name, base.setting, [*base.scenarios, extra])
