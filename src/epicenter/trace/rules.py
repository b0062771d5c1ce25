"""Rule classes turned into SQL: one query per rule, written once in DuckDB's dialect.

Every rule reads the view ``trace_seeds`` (case_key, seed_key, win_start, win_end): the
persons whose contacts are wanted (a case, or a close contact when tracing secondary
contacts) with the window in which their exposures count. It returns *exposure groups*,
one per (case, seed, contact, place, day) for stays or per shared vehicle leg, with the
columns of :data:`GROUP_COLUMNS`. The contacts module keeps the strongest tier per setting.

Performance shape (case-driven): the seed side is filtered first (a person's own stays in
their window: tens of rows, read from ``trace_stays_person``), then joined by equality on
place and an interval-overlap predicate against everyone's stays (``trace_stays_place``)
in the day partitions the window can touch, restricted first to the seeds' distinct places.
With a trace index registered both views hold only the index's candidate rows for the
current batch of seeds (see trace.index and trace.candidates); otherwise they alias the
plain ``stays``. The SQL is the same either way and applies every predicate itself. With
``targets`` given (all-pairs among known cases, for source tracing and chains) the contact
side is semi-joined to the target list before the overlap join, and ``bucket_minutes``
adds the time bucket to the equality key so hot places (stations, hospitals, big cells)
do not produce quadratic candidate lists.

Parameters: ``$as_of`` (end of open stays), ``$d0``/``$d1`` (first/last day any window
touches, for partition pruning).
"""

from __future__ import annotations

from epicenter.trace.index import PERSON_VIEW, PLACE_VIEW
from epicenter.trace.profile import (
    TIER_RANK,
    HouseholdRule,
    ProximityRule,
    StayOverlapRule,
    VehicleRule,
)

GROUP_COLUMNS = ("case_key", "seed_key", "contact_key", "setting", "place_id", "tier_rank",
                 "first_exposure", "last_exposure", "overlap_s", "evidence", "rule_id")


def _ev(alias: str) -> str:
    """Evidence reference of one row: source:batch:line."""
    return (f"coalesce({alias}.source, '?') || ':' || coalesce({alias}.batch_id, '?') || ':' || "
            f"coalesce(CAST({alias}.line_no AS VARCHAR), '?')")


def _ev_cols(alias: str, prefix: str) -> str:
    """The raw evidence columns of one side; strings are only built after grouping, because
    a hot place yields millions of candidate pairs and few groups."""
    return (f"{alias}.source AS {prefix}_src, {alias}.batch_id AS {prefix}_batch, "
            f"{alias}.line_no AS {prefix}_line")


def _ev_first(order: str) -> str:
    """Evidence of a group: the earliest pair's references of both sides, and the count."""
    # one minimum over a struct ordered by time, then the rows' own references: ties on the
    # time are broken by the references, so the same pair is picked whatever order the
    # engine scans the rows in (index or not, DuckDB or Spark). One struct aggregate (the
    # engines compute the repeated expression once) costs a third of six min_by's.
    first = (f"min({{'t': {order}, 'cb': c_batch, 'cl': c_line, 'ob': o_batch, 'ol': o_line, "
             f"'cs': c_src, 'os': o_src}})")
    parts = []
    for side, label in (("c", "case"), ("o", "contact")):
        parts.append(f"'{label} ' || coalesce(struct_extract({first}, '{side}s'), '?') || ':' || "
                     f"coalesce(struct_extract({first}, '{side}b'), '?') || ':' || "
                     f"coalesce(CAST(struct_extract({first}, '{side}l') AS VARCHAR), '?')")
    return (f"{parts[0]} || ' ~ ' || {parts[1]} || CASE WHEN count(*) > 1 THEN ' (+' || "
            f"CAST(count(*) - 1 AS VARCHAR) || ' more)' ELSE '' END")


def _targets(alias: str, targets: bool) -> str:
    return (f" AND {alias}.person_key IN (SELECT person_key FROM trace_targets)" if targets else "")


def _day_lower(max_days: int | None, alias: str) -> str:
    if max_days is None:
        return f"{alias}.day <= CAST($d1 AS DATE)"
    return f"{alias}.day BETWEEN CAST($d0 AS DATE) - {int(max_days)} AND CAST($d1 AS DATE)"


def household_sql(rule: HouseholdRule, ref: str, targets: bool) -> str:
    """Same household_key (registry home address): exposed over the whole window."""
    return f"""
SELECT sd.case_key, sd.seed_key, p2.person_key AS contact_key, '{rule.setting}' AS setting,
       p1.household_key AS place_id, {TIER_RANK[rule.tier]} AS tier_rank,
       sd.win_start AS first_exposure, sd.win_end AS last_exposure,
       CAST(NULL AS BIGINT) AS overlap_s, 'person:household_key' AS evidence, '{ref}' AS rule_id
FROM trace_seeds sd
JOIN person p1 ON p1.person_key = sd.seed_key
JOIN person p2 ON p2.household_key = p1.household_key
WHERE p1.household_key IS NOT NULL AND p2.person_key <> sd.seed_key{_targets('p2', targets)}
"""


def seed_stays_sql(kinds: dict[str, int | None]) -> str:
    """The seeds' own stays of the given place kinds (kind -> max_stay_days), clipped to their
    windows: one scan for every stay rule, materialised by the caller as ``trace_seed_stays``."""
    days = " OR ".join(f"(st.place_kind = '{k}' AND {_day_lower(d, 'st')})"
                       for k, d in sorted(kinds.items(), key=lambda kv: kv[0]))
    return f"""
SELECT sd.case_key, sd.seed_key, st.place_kind, st.place_id,
       greatest(st.start_time, sd.win_start) AS s0,
       least(coalesce(st.end_time, $as_of), sd.win_end) AS s1, {_ev_cols('st', 'c')}
FROM trace_seeds sd JOIN {PERSON_VIEW} st ON st.person_key = sd.seed_key
WHERE ({days})
  AND st.start_time < sd.win_end AND coalesce(st.end_time, $as_of) > sd.win_start
  AND st.start_time <= $as_of
"""


def _seed_stays(place_kind: str) -> str:
    return f"SELECT * FROM trace_seed_stays WHERE place_kind = '{place_kind}'"


def _case_places(alias: str, place_kind: str) -> str:
    """Join restricting everyone's stays to the places the seeds were at. Redundant with the
    later join on place, but as an inner join against a small distinct list DuckDB pushes
    the list's values into the scan, where the place-sorted index's row-group min/max skip
    nearly all rows (an ``IN (subquery)`` only gets a probabilistic filter that prunes none)."""
    return (f" JOIN (SELECT DISTINCT place_id FROM trace_seed_stays "
            f"WHERE place_kind = '{place_kind}') {alias}_cp ON {alias}_cp.place_id = {alias}.place_id")


def _other_stays(place_kind: str, max_days: int | None, targets: bool) -> str:
    return f"""
SELECT o.person_key, o.place_id, o.start_time AS o0,
       least(coalesce(o.end_time, $as_of), $as_of) AS o1, {_ev_cols('o', 'o')}
FROM {PLACE_VIEW} o{_case_places('o', place_kind)}
WHERE o.place_kind = '{place_kind}' AND {_day_lower(max_days, 'o')} AND o.start_time <= $as_of
  {_targets('o', targets)}
"""


def stay_overlap_sql(rule: StayOverlapRule, ref: str, targets: bool,
                     bucket_minutes: int | None = None) -> str:
    """Overlap of presence intervals at the same place, summed per (place, day of overlap)."""
    seeds = _seed_stays(rule.place_kind)
    others = _other_stays(rule.place_kind, rule.max_stay_days, targets)
    if bucket_minutes:
        size = int(bucket_minutes) * 60
        seeds = _bucket_rows(seeds, "s0", "s1", size)
        others = _bucket_rows(others, "o0", "o1", size)
        # each overlapping pair meets in exactly one bucket: the one holding the later start
        join = (f"o.place_id = c.place_id AND o.bucket = c.bucket AND c.bucket = "
                f"CAST(floor(epoch(greatest(c.s0, o.o0)) / {size}) AS BIGINT)")
    else:
        join = "o.place_id = c.place_id"
    tiers = " ".join(f"WHEN {t.seconds_condition('overlap_s')} THEN {TIER_RANK[t.tier]}"
                     for t in rule.thresholds)
    return f"""
SELECT case_key, seed_key, contact_key, '{rule.setting}' AS setting, place_id,
       CASE {tiers} END AS tier_rank, first_exposure, last_exposure, overlap_s, evidence,
       '{ref}' AS rule_id
FROM (
  SELECT case_key, seed_key, contact_key, place_id, CAST(t0 AS DATE) AS exposure_day,
         min(t0) AS first_exposure, max(t1) AS last_exposure,
         CAST(sum(date_diff('second', t0, t1)) AS BIGINT) AS overlap_s,
         {_ev_first('t0')} AS evidence
  FROM (
    SELECT c.case_key, c.seed_key, o.person_key AS contact_key, c.place_id,
           greatest(c.s0, o.o0) AS t0, least(c.s1, o.o1) AS t1,
           c.c_src, c.c_batch, c.c_line, o.o_src, o.o_batch, o.o_line
    FROM ({seeds}) c JOIN ({others}) o ON {join}
    WHERE o.person_key <> c.seed_key AND o.o0 < c.s1 AND o.o1 > c.s0
  ) pairs
  GROUP BY case_key, seed_key, contact_key, place_id, CAST(t0 AS DATE)
) g
WHERE CASE {tiers} END IS NOT NULL
"""


def _bucket_rows(sql: str, lo: str, hi: str, size: int) -> str:
    """Explode each interval into the time buckets (of ``size`` seconds) it covers."""
    first = f"CAST(floor(epoch(x.{lo}) / {size}) AS BIGINT)"
    last = f"CAST(floor(epoch(x.{hi}) / {size}) AS BIGINT)"
    return f"""
SELECT * FROM (
  SELECT x.*, unnest(range({first}, {last} + 1)) AS bucket FROM ({sql}) x
) xb
"""


def proximity_sql(rule: ProximityRule, ref: str, targets: bool) -> str:
    """Point events (payments) at the same place within +-within_minutes of a seed's event."""
    w = int(round(rule.within_minutes * 60))
    return f"""
SELECT c.case_key, c.seed_key, o.person_key AS contact_key, '{rule.setting}' AS setting,
       c.place_id, {TIER_RANK[rule.tier]} AS tier_rank,
       min(least(c.s0, o.start_time)) AS first_exposure,
       max(greatest(c.s0, o.start_time)) AS last_exposure,
       CAST(0 AS BIGINT) AS overlap_s,
       {_ev_first('o_time')} AS evidence, '{ref}' AS rule_id
FROM ({_seed_stays(rule.place_kind)}) c
JOIN (SELECT s.person_key, s.place_kind, s.place_id, s.day, s.start_time, s.start_time AS o_time,
             {_ev_cols('s', 'o')} FROM {PLACE_VIEW} s{_case_places('s', rule.place_kind)}) o
  ON o.place_id = c.place_id
WHERE o.place_kind = '{rule.place_kind}' AND {_day_lower(1, 'o')}
  AND o.person_key <> c.seed_key{_targets('o', targets)}
  AND o.start_time BETWEEN c.s0 - INTERVAL {w} SECOND AND c.s0 + INTERVAL {w} SECOND
GROUP BY c.case_key, c.seed_key, o.person_key, c.place_id
"""


def seat_row_sql(alias: str) -> str:
    """Seat row per the spec: leading digits of '12F'; a bare number n (hard seat) is row ceil(n/5)."""
    s = f"{alias}.seat_no"
    return (f"CASE WHEN regexp_matches({s}, '^[0-9]+$') "
            f"THEN CAST(ceil(CAST({s} AS DOUBLE) / 5) AS BIGINT) "
            f"WHEN regexp_matches({s}, '^[0-9]+') "
            f"THEN CAST(regexp_extract({s}, '^([0-9]+)', 1) AS BIGINT) "
            f"ELSE {alias}.seat_row END")


def _prefix_filter(rule: VehicleRule, alias: str) -> str:
    conds = []
    if rule.vehicle_prefixes:
        ins = ", ".join(f"'{p}'" for p in rule.vehicle_prefixes)
        conds.append(f"upper(substr({alias}.vehicle_no, 1, 1)) IN ({ins})")
    if rule.exclude_prefixes:
        ins = ", ".join(f"'{p}'" for p in rule.exclude_prefixes)
        conds.append(f"upper(substr({alias}.vehicle_no, 1, 1)) NOT IN ({ins})")
    return "".join(f" AND {c}" for c in conds)


def vehicle_sql(rule: VehicleRule, ref: str, targets: bool) -> str:
    """Same vehicle and date, legs overlapping in time; car and seat rows give the tier."""
    same_car = "coalesce(o.car_no, '') = coalesce(c.car_no, '')"
    close = [same_car] if rule.close_same_car else []
    if rule.close_rows is not None:
        close.append(f"abs(o.row_no - c.row_no) <= {int(rule.close_rows)}")
    close_cond = " AND ".join(close) or "TRUE"
    general = {"car": same_car, "vehicle": "TRUE", "none": "FALSE"}[rule.general_scope]
    tier = (f"CASE WHEN {close_cond} THEN {TIER_RANK['close']} "
            f"WHEN {general} THEN {TIER_RANK['general']} END")
    legs = f"""
SELECT l.*, {seat_row_sql('l')} AS row_no FROM legs l
WHERE l.mode = '{rule.mode}' AND l.day BETWEEN CAST($d0 AS DATE) - 1 AND CAST($d1 AS DATE)
  {_prefix_filter(rule, 'l')}"""
    place = "c.vehicle_no || ' ' || CAST(c.travel_date AS VARCHAR)"
    return f"""
SELECT case_key, seed_key, contact_key, '{rule.setting}' AS setting, place_id,
       max(tier_rank) AS tier_rank, min(t0) AS first_exposure, max(t1) AS last_exposure,
       CAST(sum(date_diff('second', t0, t1)) AS BIGINT) AS overlap_s,
       string_agg(ev, '; ' ORDER BY ev) AS evidence, '{ref}' AS rule_id
FROM (
  SELECT c.case_key, c.seed_key, o.person_key AS contact_key, {place} AS place_id,
         {tier} AS tier_rank,
         greatest(c.dep_time, o.dep_time, c.win_start) AS t0,
         least(c.arr_time, o.arr_time, c.win_end) AS t1,
         'case ' || {_ev('c')} || ' seat ' || coalesce(c.car_no || '-', '') || coalesce(c.seat_no, '?')
           || ' ~ contact ' || {_ev('o')} || ' seat ' || coalesce(o.car_no || '-', '')
           || coalesce(o.seat_no, '?') AS ev
  FROM (SELECT sd.case_key, sd.seed_key, sd.win_start, sd.win_end, l.*
        FROM trace_seeds sd JOIN ({legs}) l ON l.person_key = sd.seed_key
        WHERE l.dep_time < sd.win_end AND l.arr_time > sd.win_start) c
  JOIN ({legs}) o ON o.vehicle_no = c.vehicle_no AND o.travel_date = c.travel_date
  WHERE o.person_key <> c.seed_key AND o.dep_time < c.arr_time AND o.arr_time > c.dep_time
    {_targets('o', targets)}
) pairs
WHERE tier_rank IS NOT NULL
GROUP BY case_key, seed_key, contact_key, place_id
"""


def rule_sql(rule, ref: str, targets: bool = False, bucket_minutes: int | None = None) -> str:
    """The exposure-group query of any rule."""
    if isinstance(rule, HouseholdRule):
        return household_sql(rule, ref, targets)
    if isinstance(rule, StayOverlapRule):
        return stay_overlap_sql(rule, ref, targets, bucket_minutes)
    if isinstance(rule, ProximityRule):
        return proximity_sql(rule, ref, targets)
    if isinstance(rule, VehicleRule):
        return vehicle_sql(rule, ref, targets)
    raise TypeError(f"no SQL for rule {rule!r}")
