"""Co-travellers: everyone on a train or flight on a date, optionally tiered against a case.

With a case, each passenger gets the tier the profile's vehicle rules give them relative to
the case's own seat (sealed train car, +-rows on ordinary trains and flights), the rule id
and the evidence of both tickets; without, the passenger list with seats and segments.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa

from epicenter.engine import Engine
from epicenter.trace.contacts import run_rules
from epicenter.trace.profile import Profile, VehicleRule, load_profile
from epicenter.trace.rules import seat_row_sql
from epicenter.trace.windows import SEED_SCHEMA

PASSENGERS_SQL = f"""
SELECT l.person_key, l.mode, l.vehicle_no, l.travel_date, l.car_no, l.seat_no,
       {seat_row_sql('l')} AS seat_row, l.from_station, l.to_station, l.dep_time, l.arr_time,
       l.source || ':' || l.batch_id || ':' || CAST(l.line_no AS VARCHAR) AS evidence
FROM legs l
WHERE l.vehicle_no = $vehicle AND l.travel_date = $date AND l.mode = $mode
  AND l.day BETWEEN CAST($date AS DATE) - 1 AND CAST($date AS DATE) + 1
  AND ($car IS NULL OR l.car_no = $car)
ORDER BY l.car_no, seat_row, l.seat_no, l.person_key
"""


def cotravel(engine: Engine, vehicle_no: str, travel_date: dt.date, mode: str,
             car: str | None = None, case_key: str | None = None,
             profile: Profile | str | None = None) -> pa.Table:
    """Passengers of one vehicle and date (one row per leg); tiered when a case is given."""
    profile = profile if isinstance(profile, Profile) else load_profile(profile or "default")
    passengers = engine.query(PASSENGERS_SQL, {"vehicle": vehicle_no, "date": travel_date,
                                               "mode": mode, "car": car})
    if case_key is None:
        return passengers
    start = dt.datetime.combine(travel_date, dt.time())
    seeds = pa.table([[case_key], [case_key], [start], [start + dt.timedelta(days=2)]],
                     schema=SEED_SCHEMA)
    rules = [r for r in profile.rules if isinstance(r, VehicleRule) and r.mode == mode]
    found = run_rules(engine, seeds, profile, rules, as_of=start + dt.timedelta(days=2))
    place = f"{vehicle_no} {travel_date.isoformat()}"
    tiers = {r["contact_key"]: r for r in found.to_pylist() if r["place_id"] == place}
    rows = []
    for p in passengers.to_pylist():
        hit = tiers.get(p["person_key"])
        rows.append({**p, "tier": "case" if p["person_key"] == case_key else
                     (hit["tier"] if hit else None), "rule": hit["rule"] if hit else None})
    schema = passengers.schema.append(pa.field("tier", pa.string())).append(pa.field("rule", pa.string()))
    return pa.Table.from_pylist(rows, schema=schema)
