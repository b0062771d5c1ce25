"""The demo: generate a city, ingest it, run the analyses, and summarise what came out.

Every step uses the same library functions as the real-data path; the synthetic city is
only the delivery. The summary checks itself against the generator's ground truth where
it can (dirty rows found in the quarantine, contacts of known transmissions).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

from epicenter.settings import Settings

Step = Callable[[str], None]

# serial interval of SARS-CoV-2 used for the demo's Rt (Nishiura et al. 2020: mean 4.7, sd 2.9)
SI_MEAN, SI_SD = 4.7, 2.9


def _noop(_: str) -> None:
    return None


def generate_city(out: Path, persons: int, days: int, seed: int, step: Step = _noop) -> dict:
    from epicenter.synth import generate

    step(f"generating a city of {persons:,} persons over {days} days (seed {seed}) in {out}")
    return generate(out, persons=persons, days=days, seed=seed)


def ingest_city(settings: Settings, city: Path, step: Step = _noop) -> dict[str, Any]:
    from epicenter.ingest import ingest_items, plan_delivery

    items, _ = plan_delivery(city)
    step(f"ingesting {len(items)} files into {settings.home}")
    results = ingest_items(settings, items)
    totals = Counter()
    errors = []
    for r in results:
        if "error" in r:
            errors.append(f"{r['path']}: {r['error']}")
            continue
        rec = r["record"] or {}
        for k in ("rows_read", "rows_loaded", "rows_quarantined", "rows_duplicate"):
            totals[k] += rec.get(k) or 0
    return {"files": len(items), "errors": errors, **totals}


def dirty_rows_found(settings: Settings, city: Path) -> tuple[int, int]:
    """(listed in truth, found in quarantine by file name and line)."""
    truth = city / "truth" / "dirty_rows.csv"
    if not truth.exists():
        return 0, 0
    with open(truth, newline="", encoding="utf-8") as f:
        listed = {(Path(r["file"]).name, int(r["line"])) for r in csv.DictReader(f)}
    with settings.warehouse.open_engine("duckdb") as engine:
        rows = engine.query("SELECT source_file, line_no FROM quarantine").to_pylist()
    found = {(Path(r["source_file"]).name, r["line_no"]) for r in rows}
    return len(listed), len(listed & found)


def trace_first_cases(settings: Settings, n: int = 3) -> dict[str, Any]:
    from epicenter.trace.contacts import find_contacts

    with settings.warehouse.open_engine(settings.engine) as engine:
        cases = engine.query(
            "SELECT person_key, first_positive_time FROM cases "
            "WHERE first_positive_time IS NOT NULL ORDER BY first_positive_time, person_key "
            "LIMIT $n", {"n": n}).to_pylist()
        keys = [c["person_key"] for c in cases]
        if not keys:
            return {"cases": 0}
        as_of = max(c["first_positive_time"] for c in cases) + dt.timedelta(days=1)
        contacts = find_contacts(engine, keys, as_of=as_of)
    tiers = Counter(contacts.column("tier").to_pylist())
    settings_seen = Counter(contacts.column("setting").to_pylist())
    return {"cases": len(keys), "case_keys": keys, "rows": contacts.num_rows,
            "tiers": dict(tiers), "settings": dict(settings_seen)}


def city_code(settings: Settings) -> str | None:
    with settings.warehouse.open_engine("duckdb") as engine:
        # the delivery's own city is the one with districts (other cities are trip destinations)
        rows = engine.query(
            "SELECT parent_code AS area_code FROM area WHERE level = 'district' "
            "AND parent_code IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1").to_pylist()
    return rows[0]["area_code"] if rows else None


def model_city(settings: Settings, code: str, horizon: int = 14) -> dict[str, Any]:
    from epicenter.model.forecast import renewal_forecast
    from epicenter.model.incidence import warehouse_incidence
    from epicenter.model.rt import estimate_rt
    from epicenter.model.serial_interval import parametric_si

    with settings.warehouse.open_engine(settings.engine) as engine:
        inc = warehouse_incidence(engine, code)
    si = parametric_si(SI_MEAN, SI_SD, len(inc))
    out: dict[str, Any] = {"days": len(inc), "cases": float(inc.total.sum())}
    if len(inc) >= 9:
        rt = estimate_rt(inc, si).to_table().to_pylist()
        last = [r for r in rt if r.get("mean") is not None]
        if last:
            out["rt_last"] = last[-1]
        fc = renewal_forecast(inc, si, horizon=horizon)
        out["forecast_median"] = [float(x) for x in fc.median]
    return out


def run_demo(settings: Settings, city: Path, persons: int, days: int, seed: int,
             step: Step = _noop) -> dict[str, Any]:
    summary: dict[str, Any] = {"city": str(city), "home": str(settings.home)}
    if not (city / "manifest.yaml").exists():
        summary["generated"] = generate_city(city, persons, days, seed, step)
    else:
        step(f"reusing the city already in {city}")
    summary["ingest"] = ingest_city(settings, city, step)
    listed, found = dirty_rows_found(settings, city)
    summary["dirty_rows"] = {"listed_in_truth": listed, "found_in_quarantine": found}
    step("tracing the contacts of the first confirmed cases")
    summary["contacts"] = trace_first_cases(settings)
    code = city_code(settings)
    if code:
        step(f"estimating Rt and forecasting for area {code}")
        summary["model"] = {"area_code": code, **model_city(settings, code)}
    return summary
