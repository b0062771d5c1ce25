"""Who was at a place in a time window, with their presence intervals (the Wenzhou query).

A place is a venue (its scans, its hotel rooms and the merchants inside it) or a circle
around a point (every venue, hotel room, merchant and cell tower within the radius).
Presence intervals are clipped to the window; one row per (person, place).

With a trace index registered on the engine (``trace.index.register``) the stays of those
places in the window come from the index (binary searches per place, milliseconds) and the
same SQL runs on them; otherwise it reads the window's day partitions of ``stays``.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa

from epicenter.engine import Engine
from epicenter.trace.index import attached
from epicenter.trace.stayindex import StayIndex

EARTH_RADIUS_M = 6_371_000.0


def _within(lon: str, lat: str) -> str:
    """Haversine distance from ($lon, $lat) in metres, as SQL."""
    return (f"2 * {EARTH_RADIUS_M} * asin(sqrt(power(sin(radians({lat} - $lat) / 2), 2) + "
            f"cos(radians($lat)) * cos(radians({lat})) * power(sin(radians({lon} - $lon) / 2), 2)))"
            f" <= $radius_m")


def places_sql(by_venue: bool) -> str:
    """Places of interest: (place_kind, place_id, place_name)."""
    if by_venue:
        return """
SELECT 'venue' AS place_kind, venue_code AS place_id, name AS place_name FROM venue WHERE venue_code = $venue
UNION ALL
SELECT 'merchant', merchant_id, name FROM merchant WHERE venue_code = $venue
"""
    return f"""
SELECT 'venue' AS place_kind, venue_code AS place_id, name AS place_name FROM venue
WHERE {_within('lon', 'lat')}
UNION ALL
SELECT 'merchant', merchant_id, name FROM merchant WHERE {_within('lon', 'lat')}
UNION ALL
SELECT 'cell', cell_id, 'cell ' || cell_id FROM cell_tower WHERE {_within('lon', 'lat')}
"""


NEAR_SQL = """
WITH places AS ({places}),
present AS (
  SELECT s.person_key, s.place_kind, s.place_id, s.start_time, s.end_time, s.source, s.batch_id,
         s.line_no
  FROM {stays} s
  WHERE s.place_kind <> 'hotel_room' AND s.day BETWEEN CAST($d0 AS DATE) - 1 AND CAST($d1 AS DATE)
    AND s.start_time < $t1 AND coalesce(s.end_time, $t1) > $t0
  UNION ALL
  SELECT s.person_key, s.place_kind, s.place_id, s.start_time, s.end_time, s.source, s.batch_id,
         s.line_no
  FROM {stays} s   -- hotel registrations may be open for weeks: no day pruning
  WHERE s.place_kind = 'hotel_room' AND s.day <= CAST($d1 AS DATE)
    AND s.start_time < $t1 AND coalesce(s.end_time, $t1) > $t0
),
clipped AS (
  SELECT pr.person_key, pr.place_kind, pr.place_id,
         CASE WHEN pr.place_kind = 'hotel_room'
              THEN p.place_name || ' room ' || split_part(pr.place_id, '/', 2)
              ELSE p.place_name END AS place_name,
         greatest(pr.start_time, $t0) AS t0, least(coalesce(pr.end_time, $t1), $t1) AS t1,
         pr.source || ':' || pr.batch_id || ':' || CAST(pr.line_no AS VARCHAR) AS ev
  FROM present pr
  JOIN places p
    ON p.place_id = CASE WHEN pr.place_kind = 'hotel_room' THEN split_part(pr.place_id, '/', 1)
                         ELSE pr.place_id END
   AND p.place_kind = CASE WHEN pr.place_kind = 'hotel_room' THEN 'venue' ELSE pr.place_kind END
)
SELECT person_key, place_kind, place_id, place_name, min(t0) AS first_seen, max(t1) AS last_seen,
       CAST(sum(date_diff('second', t0, t1)) AS DOUBLE) / 60 AS minutes, count(*) AS n_stays,
       string_agg(strftime(t0, '%Y-%m-%d %H:%M') || '/' || strftime(t1, '%H:%M'), '; '
                  ORDER BY strftime(t0, '%Y-%m-%d %H:%M') || '/' || strftime(t1, '%H:%M')) AS intervals,
       string_agg(ev, '; ' ORDER BY ev) AS evidence
FROM clipped
GROUP BY person_key, place_kind, place_id, place_name
ORDER BY place_kind, place_id, first_seen, person_key
"""


def near(engine: Engine, start: dt.datetime, end: dt.datetime, venue: str | None = None,
         lon: float | None = None, lat: float | None = None,
         radius_m: float | None = None) -> pa.Table:
    """Everyone present at the venue (or within radius_m of lon/lat) between start and end."""
    if end <= start:
        raise ValueError("the window is empty: --to must be after --from")
    params: dict = {"t0": start, "t1": end, "d0": start.date(), "d1": end.date()}
    if venue is not None:
        params["venue"] = venue
    elif None not in (lon, lat, radius_m):
        params.update(lon=float(lon), lat=float(lat), radius_m=float(radius_m))
    else:
        raise ValueError("give a venue code, or lon, lat and a radius in metres")
    places = places_sql(venue is not None)
    index = attached(engine)
    if index is None:
        return engine.query(NEAR_SQL.format(places=places, stays="stays"), params)
    found = engine.query(places, _used(places, params))
    engine.register_arrow("trace_near_places", found)
    engine.register_arrow("trace_near_stays", _indexed_stays(index, found, start, end))
    sql = NEAR_SQL.format(places="SELECT * FROM trace_near_places", stays="trace_near_stays")
    return engine.query(sql, _used(sql, params))


def _used(sql: str, params: dict) -> dict:
    # DuckDB rejects parameters a query does not use
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _indexed_stays(index: StayIndex, places: pa.Table, start: dt.datetime,
                   end: dt.datetime) -> pa.Table:
    """The index's stays at the places (a venue's hotel rooms included) that can meet the
    window: start <= end and end >= start (the SQL then applies the exact predicate)."""
    kinds = places.column("place_kind").to_pylist()
    ids = places.column("place_id").to_pylist()
    codes = [index.place_codes(kinds, ids)]
    codes += [index.places_with_prefix("hotel_room", f"{v}/")
              for k, v in zip(kinds, ids, strict=True) if k == "venue"]
    code = np.concatenate(codes)
    epoch = dt.datetime(1970, 1, 1)
    t0 = (start - epoch) // dt.timedelta(microseconds=1)
    t1 = (end - epoch) // dt.timedelta(microseconds=1)
    rows = index.probe(code, np.full(len(code), t0, np.int64), np.full(len(code), t1, np.int64))
    return index.table(rows, dictionary=True)
