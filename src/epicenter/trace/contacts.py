"""Case-driven contact tracing: close, companion, general and secondary contacts.

``find_contacts(engine, cases, profile, as_of, secondary)`` returns Arrow, one row per
(case, contact, setting) with the strongest tier reached in that setting, the exposure
span and summed overlap of that tier's exposures, the evidence (source:batch:line of both
sides) and the rule (``profile@version:rule``). Secondary close contacts (次密接) are the
close contacts of the close contacts, by the same close-tier rules, exposed between the
close contact's first exposure to the case and that contact's isolation (or as-of). A
profile's ``secondary`` block may narrow this: only close contacts exposed to the case in
its ``via_settings`` are seeds (the window starts at the first exposure in those
settings), and only its ``rules`` are applied to them.
Tier order within a setting: close > secondary > companion > general.

``iter_contacts`` yields the same rows as Arrow tables, one per group of cases, so an
answer of tens of millions of rows (secondary tracing of every known case of a city) is
written or counted as it comes instead of held at once; ``find_contacts`` concatenates it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc

from epicenter.engine import Engine
from epicenter.trace.candidates import (
    CASES_PER_QUERY,
    PLAIN_SEEDS_PER_QUERY,
    case_batches,
    register_person_stays,
    register_place_stays,
    release,
)
from epicenter.trace.index import attached, ensure_views
from epicenter.trace.profile import (
    TIER_RANK,
    Profile,
    ProximityRule,
    StayOverlapRule,
    load_profile,
)
from epicenter.trace.rules import rule_sql, seed_stays_sql
from epicenter.trace.stayindex import StayIndex
from epicenter.trace.windows import SEED_SCHEMA, exposure_windows, seeds_from_windows

CONTACT_COLUMNS = ("case_key", "contact_key", "tier", "setting", "place_id", "place_name",
                   "first_exposure", "last_exposure", "overlap_minutes", "evidence", "rule",
                   "via_key")

# strongest first: the order of a case's rows, and which tier a setting keeps
TIER_ORDER = ("close", "secondary", "companion", "general")
_TIER_LABEL = " ".join(f"WHEN {rank} THEN '{tier}'" for tier, rank in TIER_RANK.items())

# keep, per (case, seed, contact, setting), the exposures of the strongest tier reached
# place_id: the place of the longest exposure; equal lengths (payments have none) fall to
# the greatest place_id, so the answer never depends on the order rows are scanned in
ASSEMBLE_SQL = """
WITH g AS ({groups}),
best AS (
  SELECT case_key, seed_key, contact_key, setting, max(tier_rank) AS tier_rank
  FROM g GROUP BY case_key, seed_key, contact_key, setting
),
top AS (
  SELECT g.* FROM g JOIN best b
    ON g.case_key = b.case_key AND g.seed_key = b.seed_key AND g.contact_key = b.contact_key
   AND g.setting = b.setting AND g.tier_rank = b.tier_rank
),
r AS (
  SELECT case_key, seed_key, contact_key, setting, max(tier_rank) AS tier_rank,
         max_by(place_id, {{'o': coalesce(overlap_s, 0), 'p': place_id}}) AS place_id,
         min(first_exposure) AS first_exposure, max(last_exposure) AS last_exposure,
         CAST(sum(overlap_s) AS DOUBLE) / 60 AS overlap_minutes,
         string_agg(evidence, '; ' ORDER BY evidence) AS evidence, min(rule_id) AS rule
  FROM top GROUP BY case_key, seed_key, contact_key, setting
)
SELECT r.case_key, r.contact_key, CASE r.tier_rank {tier_label} END AS tier, r.setting,
       r.place_id,
       CASE r.setting
         WHEN 'venue' THEN v.name
         WHEN 'hotel_room' THEN v.name || ' room ' || split_part(r.place_id, '/', 2)
         WHEN 'payment' THEN m.name
         WHEN 'cell' THEN 'cell ' || r.place_id
         WHEN 'household' THEN 'household'
         ELSE r.place_id END AS place_name,
       r.first_exposure, r.last_exposure, r.overlap_minutes, r.evidence, r.rule,
       CASE WHEN r.seed_key = r.case_key THEN CAST(NULL AS VARCHAR) ELSE r.seed_key END AS via_key
FROM r
LEFT JOIN venue v ON r.setting IN ('venue', 'hotel_room') AND v.venue_code = split_part(r.place_id, '/', 1)
LEFT JOIN merchant m ON r.setting = 'payment' AND m.merchant_id = r.place_id
ORDER BY r.case_key, r.tier_rank DESC, r.setting, r.contact_key, r.seed_key
"""


# the close contacts of the close contacts, minus the case and its own close contacts; per
# (case, contact, setting) the earliest exposure, ties to the smallest via_key
SECONDARY_SQL = """
SELECT case_key, contact_key, 'secondary' AS tier, setting, place_id, place_name,
       first_exposure, last_exposure, overlap_minutes, evidence, rule, via_key
FROM (
  SELECT f.*, row_number() OVER (PARTITION BY f.case_key, f.contact_key, f.setting
                                 ORDER BY f.first_exposure, f.via_key) AS pick
  FROM trace_found f
  WHERE f.contact_key <> f.case_key
    AND NOT EXISTS (SELECT 1 FROM trace_close t
                    WHERE t.case_key = f.case_key AND t.contact_key = f.contact_key)
) ranked
WHERE pick = 1
ORDER BY case_key, setting, contact_key
"""

# close contacts (the seeds of secondary tracing) per streamed group of cases: bounds the
# rows a group holds before its answer is yielded (20 cases at 100,000 persons have ~10,000
# close contacts and 774,000 rows); a case with more is a group of its own
SECONDARY_SEEDS_PER_GROUP = 2_000


def local_now(timezone: str = "Asia/Shanghai") -> dt.datetime:
    """Now as local wall-clock time (the warehouse stores local times without zone)."""
    return dt.datetime.now(ZoneInfo(timezone)).replace(tzinfo=None, microsecond=0)


def empty_contacts() -> pa.Table:
    ts = pa.timestamp("us")
    types = {"first_exposure": ts, "last_exposure": ts, "overlap_minutes": pa.float64()}
    return pa.schema([(c, types.get(c, pa.string())) for c in CONTACT_COLUMNS]).empty_table()


def run_rules(engine: Engine, seeds: pa.Table, profile: Profile, rules: Sequence,
              as_of: dt.datetime, targets: Sequence[str] | None = None,
              bucket_minutes: int | None = None,
              reduce: Callable[[pa.Table], pa.Table] | None = None,
              days: tuple[dt.date, dt.date] | None = None,
              seeds_per_query: int | None = None) -> pa.Table:
    """Apply ``rules`` to the seeds (case_key, seed_key, win_start, win_end): contact rows.

    ``reduce`` is applied to each batch's rows as soon as they come (secondary tracing keeps
    one row per contact instead of every close contact of every close contact). ``days``:
    the first/last day of the whole request when these seeds are only part of it.
    ``seeds_per_query``: with an index, batches of up to this many seeds whatever their
    cases (one-day seeds of source tracing: see ``source.SEEDS_PER_QUERY``).
    """
    if seeds.num_rows == 0 or not rules:
        return empty_contacts()
    ensure_views(engine)
    if engine.name == "duckdb":
        # every rule reads the same day-partition files: keep their footers in memory
        engine.execute("SET parquet_metadata_cache = true")
    if targets is not None:
        engine.register_arrow("trace_targets",
                              pa.table({"person_key": pa.array(sorted(set(targets)), pa.string())}))
    # day bounds of all seeds, also when the index splits them into batches: the bounds
    # are part of the rules' predicates, so every batch must see the same ones
    d0, d1 = days or day_bounds(seeds)
    params = {"as_of": as_of, "d0": d0, "d1": d1}
    # the seeds' own stays, once for every stay rule (one scan instead of one per rule)
    kinds = {r.place_kind: (r.max_stay_days if isinstance(r, StayOverlapRule) else 0)
             for r in rules if isinstance(r, StayOverlapRule | ProximityRule)}
    # how far (s) a rule reaches beyond a seed's stay: payments within +-N minutes
    slack = {r.place_kind: int(round(r.within_minutes * 60))
             for r in rules if isinstance(r, ProximityRule)}
    groups = "\nUNION ALL\n".join(
        rule_sql(r, profile.rule_ref(r.id), targets is not None, bucket_minutes) for r in rules)
    sql = ASSEMBLE_SQL.format(groups=groups, tier_label=_TIER_LABEL)
    index = attached(engine)
    # batches bound each query's memory (see candidates: cheap with an index, a scan without)
    if index is None:
        batches = case_batches(seeds, size=seeds.num_rows, max_seeds=PLAIN_SEEDS_PER_QUERY)
    elif seeds_per_query:
        batches = case_batches(seeds, size=seeds_per_query, max_seeds=seeds_per_query)
    else:
        batches = case_batches(seeds)
    try:
        parts = []
        for batch in batches:
            part = _run_batch(engine, index, batch, kinds, slack, sql, params)
            parts.append(reduce(part) if reduce else part)
    finally:
        if index is not None:
            release(engine, index)
    return pa.concat_tables(parts).cast(empty_contacts().schema)


def day_bounds(seeds: pa.Table) -> tuple[dt.date, dt.date]:
    """First and last day any seed's window touches."""
    return (pc.min(seeds.column("win_start")).as_py().date(),
            pc.max(seeds.column("win_end")).as_py().date())


def _used(sql: str, params: dict) -> dict:
    # DuckDB rejects parameters a query does not use (vehicle rules never need $as_of)
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _run_batch(engine: Engine, index: StayIndex | None, seeds: pa.Table, kinds: dict,
               slack: dict, sql: str, params: dict) -> pa.Table:
    engine.register_arrow("trace_seeds", seeds.cast(SEED_SCHEMA))
    if kinds:
        if index is not None:
            register_person_stays(engine, index, seeds)
        seed_sql = seed_stays_sql(kinds)
        seed_stays = engine.query(seed_sql, _used(seed_sql, params))
        engine.register_arrow("trace_seed_stays", seed_stays)
        if index is not None:
            register_place_stays(engine, index, seed_stays, slack)
    return engine.query(sql, _used(sql, params)).cast(empty_contacts().schema)


def _via_rows(close: pa.Table, profile: Profile) -> pa.Table:
    """The close rows that make their contact a seed of secondary tracing: all of them, or
    those in the profile's ``secondary.via_settings`` (a contact close in several settings
    is a seed if any is listed; its window then starts at the first exposure among those)."""
    via = profile.secondary_via()
    if via is None:
        return close
    return close.filter(pc.is_in(close.column("setting"), value_set=pa.array(sorted(via), pa.string())))


def _secondary(engine: Engine, primary: pa.Table, profile: Profile,
               as_of: dt.datetime, days: tuple[dt.date, dt.date]) -> pa.Table:
    close = primary.filter(pc.equal(primary.column("tier"), "close"))
    seeding = _via_rows(close, profile)
    rules = profile.secondary_rules()
    if seeding.num_rows == 0 or not rules:
        return empty_contacts()
    # every close contact of the case is excluded from its secondary list (trace_close), but
    # only the via-setting ones are seeds (trace_via)
    engine.register_arrow("trace_close", close.select(["case_key", "contact_key", "first_exposure"]))
    engine.register_arrow("trace_via", seeding.select(["case_key", "contact_key", "first_exposure"]))
    seeds = engine.query("""
        SELECT t.case_key, t.contact_key AS seed_key, min(t.first_exposure) AS win_start,
               least(coalesce(min(c.isolation_time), $as_of), $as_of) AS win_end
        FROM trace_via t LEFT JOIN cases c ON c.person_key = t.contact_key
        GROUP BY t.case_key, t.contact_key
        ORDER BY t.case_key, t.contact_key
    """, {"as_of": as_of})
    seeds = seeds.filter(pc.greater(seeds.column("win_end"), seeds.column("win_start")))

    # millions of rows at city scale: the selection runs in the engine, per batch of seeds
    # and once more over the batches' picks (the earliest of the earliest is the earliest)
    def pick(rows: pa.Table) -> pa.Table:
        engine.register_arrow("trace_found", rows)
        return engine.query(SECONDARY_SQL).cast(empty_contacts().schema)

    found = run_rules(engine, seeds, profile, rules, as_of, days=days,
                      reduce=lambda part: pick(part.filter(pc.equal(part.column("tier"), "close"))))
    return pick(found)


def _with_secondary(engine: Engine, primary: pa.Table, profile: Profile, as_of: dt.datetime,
                    days: tuple[dt.date, dt.date]) -> pa.Table:
    """A group of cases' direct contacts plus their secondary close contacts."""
    second = _secondary(engine, primary, profile, as_of, days)
    if second.num_rows == 0:
        return primary
    # one row per (case, contact, setting): a secondary close contact outranks a weaker
    # (companion/general) direct exposure in the same setting, which it replaces
    def key(t: pa.Table) -> pa.Array:
        return pc.binary_join_element_wise(t.column("case_key"), t.column("contact_key"),
                                           t.column("setting"), "\x1f")

    shadowed = pc.is_in(key(primary), value_set=pc.unique(key(second)))
    keep = pc.or_(pc.equal(primary.column("tier"), "close"), pc.invert(shadowed))
    rows = pa.concat_tables([primary.filter(keep), second])
    # the direct rows' order (case, strongest tier first, setting, contact), whatever the
    # grouping: the streamed tables concatenate into one ordering
    by_rank = pa.array(TIER_ORDER, pa.string())
    order = pa.table({"c": rows.column("case_key"),
                      "t": pc.index_in(rows.column("tier"), value_set=by_rank),
                      "s": rows.column("setting"), "k": rows.column("contact_key")})
    return rows.take(pc.sort_indices(order, [("c", "ascending"), ("t", "ascending"),
                                             ("s", "ascending"), ("k", "ascending")]))


def _case_groups(primary: pa.Table, max_seeds: int, profile: Profile) -> Iterator[pa.Table]:
    """The rows of consecutive cases (in case_key order) with at most ``max_seeds`` seeding
    close rows together; every case's rows stay in one group (its secondary pick needs all)."""
    cases = primary.column("case_key")
    seeding = _via_rows(primary.filter(pc.equal(primary.column("tier"), "close")), profile)
    close = pc.value_counts(seeding.column("case_key"))
    n_close = dict(zip(close.field("values").to_pylist(), close.field("counts").to_pylist(),
                       strict=True))
    group: list[str] = []
    seeds = 0
    for case in sorted(pc.unique(cases).to_pylist()):
        if group and seeds + n_close.get(case, 0) > max_seeds:
            yield primary.filter(pc.is_in(cases, value_set=pa.array(group, pa.string())))
            group, seeds = [], 0
        group.append(case)
        seeds += n_close.get(case, 0)
    if group:
        yield primary.filter(pc.is_in(cases, value_set=pa.array(group, pa.string())))


def iter_contacts(engine: Engine, cases: Sequence[str] | pa.Table,
                  profile: Profile | str | None = None, as_of: dt.datetime | None = None,
                  secondary: bool = False, targets: Sequence[str] | None = None,
                  bucket_minutes: int | None = None) -> Iterator[pa.Table]:
    """Contacts of cases as a stream of tables, each holding every row of a group of cases
    (in case_key order): what ``find_contacts`` returns, without holding it all at once.

    Groups: ``CASES_PER_QUERY`` cases with an index (a scan per group without one, so then
    ``PLAIN_SEEDS_PER_QUERY``), and with ``secondary`` further split to at most
    ``SECONDARY_SEEDS_PER_GROUP`` seeding close contacts (the profile's ``via_settings``).
    Every group uses the request's day bounds (secondary: from its first day to as-of), so
    the rows do not depend on the grouping.
    """
    profile = profile if isinstance(profile, Profile) else load_profile(profile or "default")
    as_of = as_of or local_now()
    windows = cases if isinstance(cases, pa.Table) else exposure_windows(engine, cases, profile, as_of)
    seeds = seeds_from_windows(windows)
    if seeds.num_rows == 0:
        return
    days = day_bounds(seeds)
    # secondary windows run from a close contact's first exposure (inside its case's window)
    # to that contact's isolation, capped at as-of
    days_secondary = (days[0], max(days[1], as_of.date()))
    per_chunk = CASES_PER_QUERY if attached(engine) is not None else PLAIN_SEEDS_PER_QUERY
    for chunk in case_batches(seeds, size=per_chunk, max_seeds=seeds.num_rows):
        primary = run_rules(engine, chunk, profile, profile.rules, as_of, targets,
                            bucket_minutes, days=days)
        if not secondary:
            if primary.num_rows:
                yield primary
            continue
        for group in _case_groups(primary, SECONDARY_SEEDS_PER_GROUP, profile):
            yield _with_secondary(engine, group, profile, as_of, days_secondary)


def find_contacts(engine: Engine, cases: Sequence[str] | pa.Table,
                  profile: Profile | str | None = None, as_of: dt.datetime | None = None,
                  secondary: bool = False, targets: Sequence[str] | None = None,
                  bucket_minutes: int | None = None) -> pa.Table:
    """Contacts of cases (person_keys, or a windows table with case_key/win_start/win_end).

    ``targets`` limits the contacts to those persons (all-pairs among known cases). The
    whole answer at once: ``iter_contacts`` streams it.
    """
    parts = list(iter_contacts(engine, cases, profile, as_of, secondary, targets, bucket_minutes))
    return pa.concat_tables(parts) if parts else empty_contacts()
