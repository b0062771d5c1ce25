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


def venue_table_sql(venues: str | None, batch_venues: bool) -> str:
    """Temp table ``venue_cat(venue_code, vid, dwell)``: the default dwell (minutes) and an
    integer id of every venue a valid scan of ``t`` can name. ``venues``: SQL relation
    of the loaded venues (None: none loaded). ``batch_venues``: add the batch's venue
    codes missing there (when the reference was not checked); their dwell is 'other'."""
    parts = [f"SELECT venue_code, any_value(category) AS category FROM {venues} GROUP BY 1"
             if venues else "SELECT NULL::VARCHAR AS venue_code, NULL::VARCHAR AS category WHERE false"]
    if batch_venues:
        parts.append("SELECT DISTINCT v_venue_code, NULL FROM t WHERE ok AND NOT dup AND "
                     f"v_venue_code NOT IN (SELECT venue_code FROM ({parts[0]}))")
    return (f"CREATE OR REPLACE TEMP TABLE venue_cat AS SELECT venue_code, row_number() OVER () AS vid, "
            f"{dwell_minutes_sql('category')} AS dwell FROM ({' UNION ALL '.join(parts)})")


def venue_intervals_sql(person: str) -> list[str]:
    """Scans -> temp table ``scan_iv(pid, vid, start_time, end_time, line_no)``.

    An ``in`` followed by an ``out`` (same person, same venue) within 24 h gives the
    exact interval; an unpaired ``in`` (or a scan without direction) lasts the
    category's default dwell; an unpaired ``out`` ends a default dwell; an ``out`` that
    closes an ``in`` is part of that in's interval.

    ``person`` is the SQL of the row's key in ``keys_person`` (integer person id
    ``pid``); venues are ``vid`` of ``venue_cat``. The scans are sorted once by
    (person, venue, time, line), all integers, and each row looks at its neighbours
    with ``lag``/``lead`` over that order, comparing person and venue itself. A window
    partitioned by person and venue gives the same neighbours but costs several times
    more: most partitions hold a scan or two, and the window operator pays per
    partition; sorting on the 64-character key or the venue code text costs twice as
    much as on integers."""
    window = f"INTERVAL {PAIRING_HOURS} HOUR"
    same_prev = "(lag(pid) OVER () = pid AND lag(vid) OVER () = vid)"
    same_next = "(lead(pid) OVER () = pid AND lead(vid) OVER () = vid)"
    return [
        # the streaming lag/lead below reads the sorted rows in order
        "SET preserve_insertion_order = true",
        f"""CREATE OR REPLACE TEMP TABLE scan_iv AS
    WITH s AS (
        SELECT kp.pid, vc.vid, t.v_scan_time AS ts, t.line_no,
               coalesce(t.v_direction, 'in') = 'in' AS is_in, vc.dwell
        FROM t LEFT JOIN keys_person kp ON kp.k = {person}
               LEFT JOIN venue_cat vc ON vc.venue_code = t.v_venue_code
        WHERE t.ok AND NOT t.dup
        ORDER BY pid, vid, ts, line_no
    ), n AS (
        SELECT s.*, to_minutes(CAST(dwell AS BIGINT)) AS dw,
               CASE WHEN {same_prev} THEN lag(is_in) OVER () END AS prev_in,
               CASE WHEN {same_prev} THEN lag(ts) OVER () END AS prev_ts,
               CASE WHEN {same_next} THEN lead(is_in) OVER () END AS next_in,
               CASE WHEN {same_next} THEN lead(ts) OVER () END AS next_ts
        FROM s
    )
    SELECT pid, vid, CASE WHEN is_in THEN ts ELSE ts - dw END AS start_time,
           CASE WHEN NOT is_in THEN ts
                WHEN NOT next_in AND next_ts <= ts + {window} THEN next_ts
                ELSE ts + dw END AS end_time, line_no
    FROM n WHERE is_in OR NOT coalesce(prev_in AND prev_ts >= ts - {window}, false)""",
        "SET preserve_insertion_order = false",
    ]


def venue_stays_sql(evidence: str) -> str:
    """The stays of ``scan_iv`` (see :func:`venue_intervals_sql`) with their person_key
    and venue code."""
    return f"""
    SELECT p.person_key, 'venue' AS place_kind, vc.venue_code AS place_id, iv.start_time,
           iv.end_time, {evidence}, CAST(iv.start_time AS DATE) AS day
    FROM scan_iv iv LEFT JOIN persons p USING (pid) LEFT JOIN venue_cat vc USING (vid)
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
