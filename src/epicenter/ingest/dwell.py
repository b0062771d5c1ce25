"""Presence intervals from point events: venue scans and raw cell pings.

Both derivations are window queries over the batch's valid rows (view ``good``), so a
10-million-row file never leaves DuckDB. The rules are documented in ``docs/ingest.md``.
"""

from __future__ import annotations

from epicenter.ingest.kinds import DEFAULT_DWELL_MINUTES, PAIRING_HOURS
from epicenter.ingest.validate import lit


def dwell_minutes_sql(category: str) -> str:
    """Default dwell (minutes) of a scan without a matching ``out``, by venue category."""
    whens = " ".join(f"WHEN {lit(c)} THEN {m}" for c, m in DEFAULT_DWELL_MINUTES.items())
    return f"(CASE {category} {whens} ELSE {DEFAULT_DWELL_MINUTES['other']} END)"


def venue_stays_sql(evidence: str) -> str:
    """Scans -> stays. An ``in`` followed by an ``out`` (same person, same venue) within
    24 h gives the exact interval; an unpaired ``in`` (or a scan without direction) lasts
    the category's default dwell; an unpaired ``out`` ends a default dwell."""
    dwell = f"to_minutes(CAST({dwell_minutes_sql('vc.category')} AS BIGINT))"
    window = f"INTERVAL {PAIRING_HOURS} HOUR"
    return f"""
    WITH s AS (
        SELECT person_key, v_venue_code AS venue, v_scan_time AS ts, line_no,
               coalesce(v_direction, 'in') AS dir,
               lead(coalesce(v_direction, 'in')) OVER w AS next_dir, lead(v_scan_time) OVER w AS next_ts,
               lag(coalesce(v_direction, 'in')) OVER w AS prev_dir, lag(v_scan_time) OVER w AS prev_ts
        FROM good  -- a 64-bit hash partitions as well as the 64-character key, much faster
        WINDOW w AS (PARTITION BY hash(person_key, v_venue_code) ORDER BY v_scan_time, line_no)
    ), d AS (
        SELECT s.*, {dwell} AS dwell,
               coalesce(prev_dir = 'in' AND prev_ts >= ts - {window}, false) AS closes_in
        FROM s LEFT JOIN venue_cat vc ON vc.venue_code = s.venue
    ), iv AS (  -- one pass: an `out` that closes an `in` is part of that in's interval
        SELECT person_key, venue,
               CASE WHEN dir = 'in' THEN ts ELSE ts - dwell END AS start_time,
               CASE WHEN dir = 'out' THEN ts
                    WHEN next_dir = 'out' AND next_ts <= ts + {window} THEN next_ts
                    ELSE ts + dwell END AS end_time, line_no
        FROM d WHERE dir = 'in' OR NOT closes_in
    )
    SELECT person_key, 'venue' AS place_kind, venue AS place_id, start_time, end_time,
           {evidence}, CAST(start_time AS DATE) AS day
    FROM iv
    """


def ping_stays_sql(evidence: str, ping_pong_seconds: int, gap_minutes: int) -> str:
    """Raw pings -> cell dwell records.

    1. Consecutive pings of a phone in one cell form a run; a gap longer than
       ``gap_minutes`` between pings also starts a new run.
    2. A ping-pong flip is a run in cell B between two runs in the same cell A (A-B-A,
       no gap on either side) lasting less than ``ping_pong_seconds`` from its first ping
       to the return to A; it is dropped, and the A runs around it merge.
    3. A dwell lasts from its first ping until the first ping of the next dwell when that
       follows within the gap (the handover), else until its own last ping.
    """
    gap = f"INTERVAL {int(gap_minutes)} MINUTE"
    flip = f"INTERVAL {int(ping_pong_seconds)} SECOND"
    return f"""
    WITH p AS (
        SELECT person_key, v_cell_id AS cell, v_event_time AS ts, line_no,
               lag(v_cell_id) OVER w AS pcell, lag(v_event_time) OVER w AS pts
        FROM good WINDOW w AS (PARTITION BY hash(person_key) ORDER BY v_event_time, line_no)
    ), r AS (
        SELECT *, sum(CASE WHEN pcell IS NULL OR cell <> pcell OR ts - pts > {gap} THEN 1 ELSE 0 END)
                  OVER (PARTITION BY hash(person_key) ORDER BY ts, line_no ROWS UNBOUNDED PRECEDING) AS run
        FROM p
    ), runs AS (
        SELECT person_key, run, any_value(cell) AS cell, min(ts) AS t0, max(ts) AS t1,
               arg_min(line_no, ts) AS line_no
        FROM r GROUP BY person_key, run
    ), n AS (
        SELECT *, lag(cell) OVER w AS pc, lead(cell) OVER w AS nc, lag(t1) OVER w AS pt1,
               lead(t0) OVER w AS nt0
        FROM runs WINDOW w AS (PARTITION BY person_key ORDER BY run)
    ), kept AS (
        SELECT person_key, run, cell, t0, t1, line_no FROM n
        WHERE NOT coalesce(pc = nc AND pc <> cell AND t0 - pt1 <= {gap} AND nt0 - t1 <= {gap}
                           AND nt0 - t0 < {flip}, false)
    ), m AS (
        SELECT *, sum(CASE WHEN pc IS NULL OR cell <> pc OR t0 - pt1 > {gap} THEN 1 ELSE 0 END)
                  OVER (PARTITION BY person_key ORDER BY run ROWS UNBOUNDED PRECEDING) AS dwell
        FROM (SELECT *, lag(cell) OVER w AS pc, lag(t1) OVER w AS pt1
              FROM kept WINDOW w AS (PARTITION BY person_key ORDER BY run))
    ), d AS (
        SELECT person_key, dwell, any_value(cell) AS cell, min(t0) AS t0, max(t1) AS t1,
               arg_min(line_no, t0) AS line_no
        FROM m GROUP BY person_key, dwell
    ), e AS (
        SELECT *, lead(t0) OVER (PARTITION BY person_key ORDER BY dwell) AS nt0 FROM d
    )
    SELECT person_key, 'cell' AS place_kind, cell AS place_id, t0 AS start_time,
           CASE WHEN nt0 - t1 <= {gap} THEN nt0 ELSE t1 END AS end_time,
           {evidence}, CAST(t0 AS DATE) AS day
    FROM e
    """
